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

        /// <summary>Rotated position to resume at in the current bucket; <see cref="ResumeFromMask"/> while <see cref="_fastMask"/> holds the bucket.</summary>
        internal byte _i;
        internal bool _wrapped;
        internal KeyValuePair<TKey, TValue> _current;

        /// <summary>Cells still to return from the current plain bucket (a <see cref="CellWindow"/>), valid while the map's version equals <see cref="_version"/>.</summary>
        internal uint _fastMask;
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
            uint mask = _fastMask;
            if (mask != 0 && _version == _map._version)
            {
                // Fast path: the rest of a plain bucket, and nothing has written to the map since
                // its mask was taken, so every cell in the mask is still live and in place.
                TakeNext(mask);
                return true;
            }
            if (_plainWalk && _version == _map._version && NextPlainBucket())
            {
                return true;
            }
            if (_i == ResumeFromMask)
            {
                // Leaving a plain bucket's fast path: the walker resumes at the next cell the mask
                // still holds (the cells before it were empty when the mask was taken), or after the
                // bucket.
                _i = mask != 0 ? (byte)(BitOperations.TrailingZeroCount(mask) - _offset) : (byte)Core.MapConstants.BucketCount;
            }
            _fastMask = 0;
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
        /// The bucket-to-bucket step of <see cref="NativeMap{TKey, TValue, THasher}.IterNext"/> for a
        /// walk that nothing has written to since the last bucket was read: the next bucket of the
        /// chain, else the next bucket of the array, until one has a live cell. Returns false, with
        /// the position saved, where the general walker must decide: the end of the iteration or an
        /// evacuated bucket.
        /// </summary>
        private bool NextPlainBucket()
        {
            byte* b = _bptr;
            nuint bucket = _bucket;
            nuint end = (nuint)1 << _b;
            while (true)
            {
                b = Core.Bucket<TKey, TValue>.Overflow(b);
                if (b == null)
                {
                    if (bucket == _startBucket && _wrapped)
                    {
                        break;
                    }
                    b = Core.Bucket<TKey, TValue>.At(_buckets, bucket);
                    if (bucket + OverflowPrefetchDistance < end)
                    {
                        Core.Bucket<TKey, TValue>.PrefetchOverflowOf(b + OverflowPrefetchDistance * Core.Bucket<TKey, TValue>.Size);
                    }
                    if (++bucket == end)
                    {
                        bucket = 0;
                        _wrapped = true;
                    }
                }
                if (Core.Bucket<TKey, TValue>.Evacuated(b))
                {
                    // The general walker takes it from the top of this bucket.
                    _bucket = bucket;
                    _bptr = b;
                    _i = 0;
                    return false;
                }
                uint live = Core.Bucket<TKey, TValue>.MatchLive(b);
                if (live != 0)
                {
                    TakeFirst(b, bucket, CellWindow(live, _offset, 0));
                    return true;
                }
            }
            // End of the array: the general walker finishes (and releases the registration).
            _bucket = bucket;
            _bptr = null;
            _i = 0;
            return false;
        }

        /// <summary>
        /// How many array buckets ahead of the walk <see cref="NextPlainBucket"/> prefetches an
        /// overflow bucket. The hardware streams the array itself, but an overflow bucket sits
        /// wherever the chunk gave it out, so each is a dependent miss (at 10^7 long keys about one
        /// array bucket in twenty chains one). Measured over 10^7 entries: no prefetch 6.0-7.3
        /// ns/entry; 2 buckets ahead 5.0-5.2; 8, 4.3-4.5; 16, 4.1-4.6; 32, 4.4; 64 and 128, 5.2-5.3.
        /// </summary>
        private const int OverflowPrefetchDistance = 16;

        /// <summary>
        /// Marks <see cref="_i"/> while a plain bucket's cells come from <see cref="_fastMask"/>: the
        /// position to resume at is worked out from the mask when the fast path is left, not stored
        /// for every entry.
        /// </summary>
        internal const byte ResumeFromMask = 0xFF;

        /// <summary>
        /// Enters plain bucket <paramref name="b"/> (the walk resumes at bucket index
        /// <paramref name="bucket"/> after it) and returns the first of its live cells.
        /// <paramref name="cells"/>: the live cells still to return, from <see cref="CellWindow"/>;
        /// not empty.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal void TakeFirst(byte* b, nuint bucket, uint cells)
        {
            _bucket = bucket;
            _bptr = b;
            _i = ResumeFromMask;
            TakeNext(cells);
        }

        /// <summary>Returns the first cell of <paramref name="cells"/> (not empty) in the current bucket and keeps the rest for the fast path.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void TakeNext(uint cells)
        {
            nuint slot = (nuint)BitOperations.TrailingZeroCount(cells) & (Core.MapConstants.BucketCount - 1);
            _fastMask = cells & (cells - 1);
            _current = new KeyValuePair<TKey, TValue>(*Core.Bucket<TKey, TValue>.Key(_bptr, slot), *Core.Bucket<TKey, TValue>.Value(_bptr, slot));
        }

        /// <summary>
        /// The live cells of a bucket (<paramref name="live"/>, bit c for cell c) from rotated
        /// position <paramref name="from"/> on, in this enumeration's order (cell offset, offset + 1,
        /// ..., wrapping at 8), as a 16-bit mask whose bit j stands for cell j % 8 at rotated position
        /// j - offset. Taking its lowest bit each time walks the cells in order, and the cell is that
        /// bit's index &amp; 7: no rotation per entry.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static uint CellWindow(uint live, byte offset, nuint from) =>
            (live | (live << Core.MapConstants.BucketCount)) & ((0xFFu >> (int)from) << (offset + (int)from));

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
            _fastMask = 0;
            _plainWalk = false;
            _hasCurrent = false;
            _current = default;
            _bptr = null;
            _buckets = null;
        }
    }
}
