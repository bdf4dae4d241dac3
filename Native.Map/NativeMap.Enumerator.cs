using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using Native.Map.Core;

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
    /// <para>Copies of this struct share one registration and one walk: disposing one invalidates
    /// the others. Inside the group of buckets the walk is at (up to eight), each copy keeps its own
    /// place, as a copy of <see cref="Dictionary{TKey, TValue}"/>'s enumerator does; the first copy
    /// to step past the group carries the walk on, and every other copy then throws
    /// <see cref="InvalidOperationException"/> at its next <see cref="MoveNext"/> instead of
    /// continuing. So each copy returns entries as a whole enumeration would, or throws. The same
    /// exception follows a <see cref="MoveNext"/> that the key's own code interrupted with an
    /// exception: start a new enumeration.</para>
    /// </remarks>
    public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
    {
        private readonly NativeMap<TKey, TValue, THasher> _map;

        /// <summary>Where the walk stands (shared by copies of this enumerator); null before the start on an empty map, after the end and after <see cref="Dispose"/>.</summary>
        private IteratorState? _state;

        /// <summary>
        /// The registration this enumerator holds (high half: <see cref="IteratorState.Token"/> while
        /// it is live) and the <see cref="IteratorState.Stamp"/> of this copy's last step (low half),
        /// one field so that one register carries both through a <c>foreach</c>.
        /// </summary>
        private ulong _ticket;

        private byte _offset;

        /// <summary>
        /// Cells still to return from the current group of plain buckets, valid while the map's
        /// version equals <see cref="_version"/> and the walk's stamp this copy's: bit 8g + r stands
        /// for the cell at rotated position r (cell (r + offset) % 8) of bucket g of the group,
        /// <c>_groupMembers[g]</c>.
        /// </summary>
        private ulong _groupMask;

        /// <summary>The buckets of the group <see cref="_groupMask"/> describes (<see cref="IteratorState.Members"/>).</summary>
        private byte** _groupMembers;

        private int _version;

        private bool _hasCurrent;
        private KeyValuePair<TKey, TValue> _current;

        internal Enumerator(NativeMap<TKey, TValue, THasher> map)
        {
            _map = map;
            IteratorState? state = map.IterInit();
            _state = state;
            if (state != null)
            {
                _ticket = Ticket(state.Token, state.Stamp);
                _offset = state.Offset;
            }
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
        /// <exception cref="InvalidOperationException">A write to the map is in progress, this enumerator (or a copy) was disposed, or another copy of it has moved on.</exception>
        [SkipLocalsInit]
        public bool MoveNext()
        {
            ulong mask = _groupMask;
            if (mask != 0 && _version == _map._version && _state!.Stamp == (uint)_ticket)
            {
                // Fast path: the rest of a group of plain buckets, nothing has written to the map
                // since its mask was taken, so every cell in the mask is still live and in place, and
                // no copy of this enumerator has stepped the shared walk since, so the state's member
                // table still lists this group's buckets (a copy left behind throws in Advance).
                TakeNext(mask);
                return true;
            }
            // Everything else is a static call that takes the fields by value, so this struct is
            // never passed by reference and the JIT can keep it in registers.
            if (Advance(_map, _state, _ticket, mask, _version, out Step step))
            {
                _groupMask = step.Mask;
                _groupMembers = step.Members;
                _version = step.Version;
                _ticket = step.Ticket;
                _current = step.Current;
                _hasCurrent = true;
                return true;
            }
            Forget(); // Advance released the registration at the end
            return false;
        }

        /// <summary>Drops the state and the current entry: after the end, and in <see cref="Dispose"/> once the registration is released.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Forget()
        {
            _state = null;
            _groupMask = 0;
            _hasCurrent = false;
            _current = default;
        }

        /// <summary>What <see cref="Advance"/> hands back to the struct: the entry to return and the group it came from.</summary>
        internal struct Step
        {
            /// <summary>The entry to return.</summary>
            public KeyValuePair<TKey, TValue> Current;

            /// <summary>The group's cells after <see cref="Current"/>, or 0 (the next call takes the slow path).</summary>
            public ulong Mask;

            /// <summary>The group's buckets (<see cref="IteratorState.Members"/>).</summary>
            public byte** Members;

            /// <summary>The map version <see cref="Mask"/> is valid for.</summary>
            public int Version;

            /// <summary>The enumerator's ticket after this step (see <see cref="_ticket"/>).</summary>
            public ulong Ticket;
        }

        /// <summary>
        /// Everything <see cref="MoveNext"/> does besides the rest of a group: the next group of the
        /// plain walk, the general walker (growth, evacuated buckets, misuse) and the end.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool Advance(NativeMap<TKey, TValue, THasher> map, IteratorState? s, ulong ticket, ulong mask, int version, out Step step)
        {
            step = default;
            uint token = (uint)(ticket >> 32);
            if (s == null)
            {
                // Never started (empty map, default struct), finished, or disposed.
                map?.CheckRead();
                return false;
            }
            // A registration released since (this enumerator or a copy disposed, the map disposed)
            // may already belong to another enumeration: then nothing here touches the state, and
            // IterNext throws.
            if (s.Token == token)
            {
                if (s.Stamp != (uint)ticket)
                {
                    // Another copy of this enumerator stepped the shared walk since this copy's
                    // last step: this copy's mask belongs to a group the walk has left.
                    ThrowHelper.ThrowEnumeratorCopyBehind();
                }
                step.Ticket = Ticket(token, ++s.Stamp);
                if (s.PlainWalk && version == map._version)
                {
                    if (NextPlainGroup(map, s, ref step))
                    {
                        step.Version = version;
                        return true;
                    }
                }
                else if (s.I == ResumeFromMask)
                {
                    LeaveGroup(s, mask);
                }
                s.PlainWalk = false;
            }
            if (map.IterNext(s, token, ref step))
            {
                GC.KeepAlive(map);
                return true;
            }
            Release(map, s, token);
            return false;
        }

        private static ulong Ticket(uint token, uint stamp) => ((ulong)token << 32) | stamp;

        /// <summary>Releases the registration if this enumerator still holds it (it is shared by copies).</summary>
        /// <remarks>
        /// Never inlined: it is the body of the <c>finally</c> that <c>foreach</c> wraps around the
        /// loop, and the JIT copies a small <c>finally</c> onto the loop's exit and drops the
        /// exception region. With profile-guided optimisation it inlined the registry's lock into
        /// <see cref="Dispose"/>; the region then stayed, and locals living across it (a caller's
        /// running sum, an outer loop's counter) were kept on the stack.
        /// </remarks>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Release(NativeMap<TKey, TValue, THasher> map, IteratorState s, uint token)
        {
            if (s.Token == token)
            {
                map.UnregisterIterator(s.Slot, token);
            }
        }

        /// <summary>
        /// Hands the position of the group walk to the general walker: the bucket of the next cell the
        /// mask still holds, at that cell's rotated position (the cells before it were empty or
        /// returned when the mask was taken), or after the group's last bucket when the mask is spent.
        /// </summary>
        private static void LeaveGroup(IteratorState s, ulong mask)
        {
            if (mask == 0)
            {
                SavePosition(s, s.Bptr, s.Bucket); // after the group's last bucket
                s.I = Core.MapConstants.BucketCount;
                return;
            }
            int j = BitOperations.TrailingZeroCount(mask);
            nuint g = (nuint)(j >> 3);
            SavePosition(s, s.Members[g], NextArrayIndex(s, g));
            s.I = (byte)(j & 7);
        }

        /// <summary>
        /// The array index after the array bucket that group member <paramref name="g"/> is or is
        /// chained to: that of the last array bucket among members 0 to <paramref name="g"/> (an
        /// overflow bucket lies outside the array's first 2^B buckets, in its preallocated tail or in
        /// a chunk), else <see cref="IteratorState.GroupStartNext"/> (the chain began before the
        /// group). Worked out here, where a write ends the fast path, rather than stored with every
        /// member of every group.
        /// </summary>
        private static nuint NextArrayIndex(IteratorState s, nuint g)
        {
            nuint arrayBytes = ((nuint)1 << s.B) * (nuint)Core.Bucket<TKey, TValue>.Size;
            for (nuint k = g + 1; k-- > 0;)
            {
                nuint offset = (nuint)(s.Members[k] - s.Buckets);
                if (offset < arrayBytes)
                {
                    return offset / (nuint)Core.Bucket<TKey, TValue>.Size + 1;
                }
            }
            return s.GroupStartNext;
        }

        /// <summary>
        /// The bucket-to-bucket step of <see cref="NativeMap{TKey, TValue, THasher}.IterNext"/> for a
        /// walk that nothing has written to since the last group was read: the next up to eight
        /// buckets in walk order as one group (the overflow chain of the last bucket first, then array
        /// buckets, each followed by its chain), listed in <see cref="IteratorState.Members"/>, until
        /// a group has a live cell. Returns false, with the position saved, where the general walker
        /// must decide: the end of the iteration or an evacuated bucket.
        /// </summary>
        /// <remarks>
        /// One mask for up to eight buckets, rather than one per bucket, because the end of a mask is a
        /// branch on the number of live cells, which no predictor learns, and each end was a call.
        /// The visiting order is the same as a bucket-at-a-time walk. Measured over 10^7 entries, an
        /// iteration harness with alternating processes: a mask per bucket 3.5-4.0 ns/entry
        /// (3.8-4.1x Dictionary), groups 2.8-3.1 (2.8-3.1x); at 10^6 3.95 -> 2.72. A group used to
        /// be consecutive array buckets (an entry's bucket was base + 144 * (bit / 8)), cut after each
        /// bucket with an overflow chain and each overflow bucket a group of its own, so at load 6 a
        /// group held about half its eight buckets; the member table lets chains run inside a group.
        /// Gathering the eight tophash words and overflow pointers with AVX2 instead of the loop was
        /// slower (3.2-3.6 ns/entry: gathers are microcoded). Reached only through
        /// <see cref="Advance"/>, which is never inlined: with profile-guided optimisation the JIT
        /// inlined the group step into the demo's <c>foreach</c>, which then ran at 3.7-3.9 ns/entry
        /// instead of 2.85-3.15.
        /// </remarks>
        private static bool NextPlainGroup(NativeMap<TKey, TValue, THasher> map, IteratorState s, ref Step step)
        {
            byte* b = s.Bptr;
            nuint bucket = s.Bucket;
            nuint end = (nuint)1 << s.B;
            byte** members = s.Members;
            // Only an array the map has since grown out of can hold evacuated buckets (no write
            // has happened since the last group, or the version check would have stopped us).
            bool mayBeEvacuated = s.Buckets != map._h.Buckets;
            while (true)
            {
                ulong mask = 0;
                nuint g = 0;
                nuint start = bucket;
                while (g < 8)
                {
                    byte* p = Core.Bucket<TKey, TValue>.Overflow(b);
                    if (p != null)
                    {
                        if (Core.Bucket<TKey, TValue>.Evacuated(p))
                        {
                            if (g == 0)
                            {
                                return SavePosition(s, p, bucket);
                            }
                            break;
                        }
                    }
                    else
                    {
                        if (bucket == end)
                        {
                            if (g != 0)
                            {
                                break; // a group does not wrap
                            }
                            bucket = 0;
                            s.Wrapped = true;
                        }
                        if (bucket == s.StartBucket && s.Wrapped)
                        {
                            if (g == 0)
                            {
                                // End of the array: the general walker finishes (and releases the registration).
                                return SavePosition(s, null, bucket);
                            }
                            break;
                        }
                        p = Core.Bucket<TKey, TValue>.At(s.Buckets, bucket);
                        if (mayBeEvacuated && Core.Bucket<TKey, TValue>.Evacuated(p))
                        {
                            if (g == 0)
                            {
                                // An evacuated bucket: the general walker takes it from the top.
                                return SavePosition(s, p, bucket + 1);
                            }
                            break;
                        }
                        if (bucket + OverflowPrefetchDistance < end)
                        {
                            Core.Bucket<TKey, TValue>.PrefetchOverflowOf(p + OverflowPrefetchDistance * Core.Bucket<TKey, TValue>.Size);
                        }
                        bucket++;
                    }
                    members[g] = p;
                    mask |= (ulong)Core.Bucket<TKey, TValue>.MatchLive(p) << (int)(g * 8);
                    b = p;
                    g++;
                }
                if (mask != 0)
                {
                    s.GroupStartNext = start;
                    EnterGroup(s, (byte)g, bucket, RotateEach(mask, s.Offset), ref step);
                    return true;
                }
            }
        }

        /// <summary>Leaves the group walk at the top of bucket <paramref name="b"/> (null: at array index <paramref name="next"/>), <paramref name="next"/> being the array index after it (wrapped here if it is the end).</summary>
        private static bool SavePosition(IteratorState s, byte* b, nuint next)
        {
            if (next == (nuint)1 << s.B)
            {
                next = 0;
                s.Wrapped = true;
            }
            s.Bucket = next;
            s.Bptr = b;
            s.I = 0;
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
        /// Marks <see cref="IteratorState.I"/> while the walk's position is held by <see cref="_groupMask"/>: the
        /// position to resume at is worked out from the mask when the fast path is left, not stored
        /// for every entry.
        /// </summary>
        internal const byte ResumeFromMask = 0xFF;

        /// <summary>
        /// Enters plain bucket <paramref name="b"/> from the general walker at rotated position
        /// <paramref name="from"/> (the walk resumes at array index <paramref name="next"/> after it)
        /// and returns its first live cell from there in <paramref name="step"/>.
        /// <paramref name="live"/>: the bucket's live cells (bit c for cell c). False when none is left.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static bool TryEnterBucket(IteratorState s, byte* b, nuint next, uint live, nuint from, ref Step step)
        {
            ulong cells = Rotate(live, s.Offset) & (0xFFUL << (int)from) & 0xFF;
            if (cells == 0)
            {
                return false;
            }
            s.Members[0] = b;
            s.GroupStartNext = next;
            EnterGroup(s, 1, next, cells, ref step);
            return true;
        }

        /// <summary>Starts the group of the first <paramref name="count"/> buckets of <see cref="IteratorState.Members"/> (cells <paramref name="cells"/>, not empty; array index <paramref name="next"/> after it) and returns its first cell in <paramref name="step"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void EnterGroup(IteratorState s, byte count, nuint next, ulong cells, ref Step step)
        {
            byte** first = s.Members;
            s.Bptr = first[count - 1];
            s.Bucket = next;
            s.I = ResumeFromMask;
            uint j = (uint)BitOperations.TrailingZeroCount(cells);
            step.Mask = cells & (cells - 1);
            step.Members = first;
            step.Current = Entry(first, j, s.Offset);
        }

        /// <summary>Returns the first cell of <paramref name="cells"/> (not empty) in the current group and keeps the rest for the fast path.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void TakeNext(ulong cells)
        {
            uint j = (uint)BitOperations.TrailingZeroCount(cells);
            _groupMask = cells & (cells - 1);
            _current = Entry(_groupMembers, j, _offset);
        }

        /// <summary>The entry at bit <paramref name="j"/> of a group mask of the group whose buckets <paramref name="members"/> lists.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static KeyValuePair<TKey, TValue> Entry(byte** members, uint j, byte offset)
        {
            byte* b = members[j >> 3];
            nuint slot = (nuint)((j + offset) & (Core.MapConstants.BucketCount - 1));
            return new KeyValuePair<TKey, TValue>(*Core.Bucket<TKey, TValue>.Key(b, slot), *Core.Bucket<TKey, TValue>.Value(b, slot));
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
            Dispose();
            this = new Enumerator(_map);
        }

        /// <summary>Ends the enumeration and releases the bucket arrays it pinned. Idempotent.</summary>
        public void Dispose()
        {
            IteratorState? s = _state;
            if (s != null)
            {
                Release(_map, s, (uint)(_ticket >> 32));
            }
            Forget();
        }
    }
}
