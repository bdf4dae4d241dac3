using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// Enumerates a map's entries with Go's iteration semantics: random start, and the map may be
    /// changed during the enumeration.
    /// </summary>
    /// <remarks>
    /// <para>Every entry that is neither added nor removed during the enumeration is returned exactly
    /// once, with its current value; an entry removed before it is reached is not returned; an entry
    /// added during the enumeration may or may not be returned. Growth during the enumeration is fine.</para>
    /// <para>While an enumerator is live, the bucket arrays it may still read are kept (retired, not
    /// freed). Reaching the end or calling <see cref="Dispose"/> releases them; <c>foreach</c> does
    /// both. An enumerator abandoned half-way keeps at most its arrays until the map is disposed.</para>
    /// <para>Copies of this struct share one registration: disposing one invalidates the others,
    /// which then throw <see cref="InvalidOperationException"/>.</para>
    /// </remarks>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        internal const int StateNotStarted = 0;
        internal const int StateRunning = 1;
        internal const int StateFinished = 2;

        private readonly NativeMap<TKey, TValue, THasher> _map;
        internal int _state;
        internal int _slot;
        internal uint _token;
        internal byte* _buckets;
        internal byte* _bptr;
        internal nuint _startBucket;
        internal nuint _bucket;
        internal nuint _checkBucket;
        internal byte _b;
        internal byte _offset;

        /// <summary>Rotated position to resume at in the current bucket; <see cref="ResumeFromMask"/> while <see cref="_groupMask"/> holds the walk's position.</summary>
        internal byte _i;
        internal bool _wrapped;
        internal KeyValuePair<TKey, TValue> _current;

        /// <summary>
        /// Cells still to return from the current group of plain buckets, valid while the map's
        /// version equals <see cref="_version"/>: bit 8g + r stands for the cell at rotated position
        /// r (cell (r + offset) % 8) of bucket g of the group, which starts at <see cref="_groupBase"/>.
        /// </summary>
        internal ulong _groupMask;

        /// <summary>The first bucket of the group <see cref="_groupMask"/> describes: consecutive array buckets, or one overflow bucket.</summary>
        internal byte* _groupBase;

        /// <summary>How many buckets the group has (1 to 8); the last is <see cref="_bptr"/>, and <see cref="_bucket"/> is the array index after it.</summary>
        internal byte _groupCount;
        internal int _version;

        /// <summary>
        /// Set with <see cref="_version"/> when the walk needs no old-bucket filtering (the map was not
        /// in the middle of a growth of this enumerator's array): while the version is unchanged,
        /// <see cref="MoveNext"/> may step to the next bucket itself.
        /// </summary>
        internal bool _plainWalk;
        private bool _hasCurrent;

        internal Enumerator(NativeMap<TKey, TValue, THasher> map)
        {
            _map = map;
            map.IterInit(ref this);
        }

        /// <summary>The entry at the current position (default before the first <see cref="MoveNext"/> and after the last).</summary>
        public readonly KeyValuePair<TKey, TValue> Current => _current;

        readonly object IEnumerator.Current
        {
            get
            {
                if (!_hasCurrent)
                {
                    ThrowHelper.ThrowEnumeratorNotStarted();
                }
                return _current;
            }
        }

        /// <summary>Advances to the next entry.</summary>
        /// <returns>False when every entry has been returned.</returns>
        /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
        /// <exception cref="InvalidOperationException">A write to the map is in progress, or this enumerator was disposed.</exception>
        public bool MoveNext()
        {
            ulong mask = _groupMask;
            if (mask != 0 && _version == _map._version)
            {
                // Fast path: the rest of a group of plain buckets, and nothing has written to the
                // map since its mask was taken, so every cell in the mask is still live and in place.
                TakeNext(mask);
                return true;
            }
            if (_plainWalk && _version == _map._version && NextPlainGroup())
            {
                return true;
            }
            if (_i == ResumeFromMask)
            {
                LeaveGroup(mask);
            }
            _groupMask = 0;
            _plainWalk = false;
            if (_state != StateRunning)
            {
                if (_map is null)
                {
                    return false;
                }
                if (_state == StateFinished)
                {
                    _map.CheckRead();
                    _hasCurrent = false;
                    _current = default;
                    return false;
                }
            }
            if (_map.IterNext(ref this))
            {
                _hasCurrent = true;
                GC.KeepAlive(_map);
                return true;
            }
            Finish();
            return false;
        }

        /// <summary>
        /// Hands the position of the group walk to the general walker: the bucket of the next cell the
        /// mask still holds, at that cell's rotated position (the cells before it were empty or
        /// returned when the mask was taken), or after the group's last bucket when the mask is spent.
        /// </summary>
        private void LeaveGroup(ulong mask)
        {
            if (mask == 0)
            {
                SavePosition(_bptr, _bucket); // after the group's last bucket
                _i = Core.MapConstants.BucketCount;
                return;
            }
            int j = BitOperations.TrailingZeroCount(mask);
            nuint g = (nuint)(j >> 3);
            SavePosition(_groupBase + g * (nuint)Core.Bucket<TKey, TValue>.Size, _bucket - ((nuint)_groupCount - 1 - g));
            _i = (byte)(j & 7);
        }

        /// <summary>
        /// The bucket-to-bucket step of <see cref="NativeMap{TKey, TValue, THasher}.IterNext"/> for a
        /// walk that nothing has written to since the last group was read: the overflow chain of the
        /// group's last bucket one bucket at a time, else the next up to eight array buckets as one
        /// group (ending early at a bucket with an overflow chain), until a group has a live cell.
        /// Returns false, with the position saved, where the general walker must decide: the end of
        /// the iteration or an evacuated bucket.
        /// </summary>
        /// <remarks>
        /// One mask for up to eight buckets, rather than one per bucket, because the end of a mask is a
        /// branch on the number of live cells, which no predictor learns, and each end was a call.
        /// The visiting order is the same as a bucket-at-a-time walk. Measured over 10^7 entries, an
        /// iteration harness with alternating processes: a mask per bucket 3.5-4.0 ns/entry
        /// (3.8-4.1x Dictionary), groups 2.8-3.1 (2.8-3.1x); at 10^6 3.95 -> 2.72. Gathering the
        /// eight tophash words and overflow pointers with AVX2 instead of the loop was slower
        /// (3.2-3.6 ns/entry: gathers are microcoded). Never inlined: with profile-guided optimisation
        /// the JIT inlined it into the demo's <c>foreach</c>, which then ran at 3.7-3.9 ns/entry
        /// instead of 2.85-3.15 (its per-entry fast path is the same code either way).
        /// </remarks>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private bool NextPlainGroup()
        {
            byte* b = _bptr;
            nuint bucket = _bucket;
            nuint end = (nuint)1 << _b;
            while (true)
            {
                byte* ovf = Core.Bucket<TKey, TValue>.Overflow(b);
                if (ovf != null)
                {
                    b = ovf;
                    if (Core.Bucket<TKey, TValue>.Evacuated(b))
                    {
                        return SavePosition(b, bucket);
                    }
                    ulong live = Rotate(Core.Bucket<TKey, TValue>.MatchLive(b), _offset);
                    if (live != 0)
                    {
                        EnterGroup(b, 1, bucket, live);
                        return true;
                    }
                    continue;
                }
                if (bucket == end)
                {
                    bucket = 0;
                    _wrapped = true;
                }
                if (bucket == _startBucket && _wrapped)
                {
                    // End of the array: the general walker finishes (and releases the registration).
                    return SavePosition(null, bucket);
                }
                nuint count = Math.Min((nuint)8, (_wrapped ? _startBucket : end) - bucket);
                byte* first = Core.Bucket<TKey, TValue>.At(_buckets, bucket);
                // Only an array the map has since grown out of can hold evacuated buckets (no write
                // has happened since the last group, or the version check would have stopped us).
                bool mayBeEvacuated = _buckets != _map._h.Buckets;
                ulong mask = 0;
                nuint g = 0;
                while (g < count)
                {
                    byte* p = first + g * (nuint)Core.Bucket<TKey, TValue>.Size;
                    if (mayBeEvacuated && Core.Bucket<TKey, TValue>.Evacuated(p))
                    {
                        break;
                    }
                    if (bucket + g + OverflowPrefetchDistance < end)
                    {
                        Core.Bucket<TKey, TValue>.PrefetchOverflowOf(p + OverflowPrefetchDistance * Core.Bucket<TKey, TValue>.Size);
                    }
                    mask |= (ulong)Core.Bucket<TKey, TValue>.MatchLive(p) << (int)(g * 8);
                    g++;
                    if (Core.Bucket<TKey, TValue>.Overflow(p) != null)
                    {
                        break; // its chain comes before the next array bucket
                    }
                }
                mask = RotateEach(mask, _offset);
                if (g == 0)
                {
                    // An evacuated bucket: the general walker takes it from the top.
                    return SavePosition(first, bucket + 1);
                }
                bucket += g;
                b = first + (g - 1) * (nuint)Core.Bucket<TKey, TValue>.Size;
                if (mask != 0)
                {
                    EnterGroup(first, (byte)g, bucket, mask);
                    return true;
                }
            }
        }

        /// <summary>Leaves the group walk at the top of bucket <paramref name="b"/> (null: at array index <paramref name="next"/>), <paramref name="next"/> being the array index after it (wrapped here if it is the end).</summary>
        private bool SavePosition(byte* b, nuint next)
        {
            if (next == (nuint)1 << _b)
            {
                next = 0;
                _wrapped = true;
            }
            _bucket = next;
            _bptr = b;
            _i = 0;
            _groupMask = 0;
            return false;
        }

        /// <summary>
        /// How many array buckets ahead of the walk <see cref="NextPlainGroup"/> prefetches an
        /// overflow bucket. The hardware streams the array itself, but an overflow bucket sits
        /// wherever the chunk gave it out, so each is a dependent miss (at 10^7 long keys about one
        /// array bucket in twenty chains one). Measured over 10^7 entries: no prefetch 6.0-7.3
        /// ns/entry; 2 buckets ahead 5.0-5.2; 8, 4.3-4.5; 16, 4.1-4.6; 32, 4.4; 64 and 128, 5.2-5.3.
        /// </summary>
        private const int OverflowPrefetchDistance = 16;

        /// <summary>
        /// Marks <see cref="_i"/> while the walk's position is held by <see cref="_groupMask"/>: the
        /// position to resume at is worked out from the mask when the fast path is left, not stored
        /// for every entry.
        /// </summary>
        internal const byte ResumeFromMask = 0xFF;

        /// <summary>
        /// Enters plain bucket <paramref name="b"/> from the general walker at rotated position
        /// <paramref name="from"/> (the walk resumes at array index <paramref name="next"/> after it)
        /// and returns its first live cell from there. <paramref name="live"/>: the bucket's live
        /// cells (bit c for cell c). False when none is left.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal bool TryEnterBucket(byte* b, nuint next, uint live, nuint from)
        {
            ulong cells = Rotate(live, _offset) & (0xFFUL << (int)from) & 0xFF;
            if (cells == 0)
            {
                return false;
            }
            EnterGroup(b, 1, next, cells);
            return true;
        }

        /// <summary>Starts the group of <paramref name="count"/> buckets at <paramref name="first"/> (cells <paramref name="cells"/>, not empty; array index <paramref name="next"/> after it) and returns its first cell.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void EnterGroup(byte* first, byte count, nuint next, ulong cells)
        {
            _groupBase = first;
            _groupCount = count;
            _bptr = first + (nuint)(count - 1) * (nuint)Core.Bucket<TKey, TValue>.Size;
            _bucket = next;
            _i = ResumeFromMask;
            TakeNext(cells);
        }

        /// <summary>Returns the first cell of <paramref name="cells"/> (not empty) in the current group and keeps the rest for the fast path.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void TakeNext(ulong cells)
        {
            uint j = (uint)BitOperations.TrailingZeroCount(cells);
            _groupMask = cells & (cells - 1);
            byte* b = _groupBase + (nuint)(j >> 3) * (nuint)Core.Bucket<TKey, TValue>.Size;
            nuint slot = (nuint)((j + _offset) & (Core.MapConstants.BucketCount - 1));
            _current = new KeyValuePair<TKey, TValue>(*Core.Bucket<TKey, TValue>.Key(b, slot), *Core.Bucket<TKey, TValue>.Value(b, slot));
        }

        /// <summary><see cref="Rotate"/> applied to each of the eight bytes of <paramref name="masks"/> (eight buckets' live cells).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong RotateEach(ulong masks, byte offset)
        {
            const ulong Ones = 0x0101_0101_0101_0101;
            ulong low = Ones * (0xFFu >> offset);
            return ((masks >> offset) & low) | ((masks << (Core.MapConstants.BucketCount - offset)) & ~low);
        }

        /// <summary>
        /// A bucket's live cells (<paramref name="live"/>, bit c for cell c) in this enumeration's
        /// order: bit r for the cell at rotated position r, cell (r + offset) % 8.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Rotate(uint live, byte offset) => RotateEach(live, offset) & 0xFF;

        /// <summary>Restarts the enumeration (from a new random position).</summary>
        public void Reset()
        {
            if (_map is null)
            {
                return;
            }
            Finish();
            _map.IterInit(ref this);
        }

        /// <summary>Ends the enumeration and releases the bucket arrays it pinned. Idempotent.</summary>
        public void Dispose() => Finish();

        private void Finish()
        {
            if (_state == StateRunning)
            {
                _map.UnregisterIterator(_slot, _token);
            }
            _state = StateFinished;
            _groupMask = 0;
            _plainWalk = false;
            _hasCurrent = false;
            _current = default;
            _bptr = null;
            _buckets = null;
        }
    }
}
