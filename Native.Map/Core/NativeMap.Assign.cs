using System.Runtime.CompilerServices;
using System.Numerics;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// Finds <paramref name="key"/> or makes a slot for it and returns its value slot (a new slot
    /// holds default). Go: mapassign. Preconditions: the caller holds the writer flag and
    /// <paramref name="hash"/> was computed with the seed the map has now (see
    /// <see cref="HashAndPrefetch"/>). Nothing changes before the point where the entry is written,
    /// except growth work and linking an empty overflow bucket, so an exception (user hash/equality
    /// code, allocation failure) leaves the map's contents as they were.
    /// </summary>
    private SlotResult AssignSlot(TKey key, ulong hash)
    {
        if (_h.Buckets == null)
        {
            InstallFreshArray(_h.B);
        }
        if (_h.Count >= _writeFirstUntil)
        {
            SetWriteFirst(false);
        }
        byte top = TopHash(hash);

        while (true)
        {
            nuint bucket = (nuint)hash & _bucketMask;
            GrowthWork(bucket);
            byte* b = Bucket<TKey, TValue>.At(_h.Buckets, bucket);
            byte* insertB = null;
            nuint insertI = 0;
            byte* last = null;
            while (true)
            {
                uint matches = Bucket<TKey, TValue>.MatchTopHash(b, top);
                while (matches != 0)
                {
                    nuint i = (nuint)BitOperations.TrailingZeroCount(matches);
                    if (THasher.KeyEquals(in key, in *Bucket<TKey, TValue>.Key(b, i)))
                    {
                        // Already have a mapping for key: the caller updates the value.
                        return new SlotResult(Bucket<TKey, TValue>.Value(b, i), found: true);
                    }
                    matches &= matches - 1;
                }
                if (insertB == null)
                {
                    uint empty = Bucket<TKey, TValue>.MatchEmpty(b);
                    if (empty != 0)
                    {
                        insertB = b;
                        insertI = (nuint)BitOperations.TrailingZeroCount(empty);
                    }
                }
                if (Bucket<TKey, TValue>.HasEmptyRest(b))
                {
                    break; // no live cell after this one
                }
                byte* ovf = Bucket<TKey, TValue>.Overflow(b);
                if (ovf == null)
                {
                    last = b;
                    break;
                }
                b = ovf;
            }

            // Did not find the key. If we hit the max load factor or have too many overflow buckets,
            // and are not already growing, start growing: that invalidates everything, so try again.
            if (!Growing)
            {
                // OverMapLoadFactor(Count + 1, B) and TooManyOverflowBuckets(noverflow, B), from the
                // limits cached with B. An in-place compaction running is already shedding overflow;
                // one paused by a registered enumerator is not, and Go's same-size growth takes over.
                bool over = _h.Count + 1 > _growLimit;
                if (over || ((!_compacting || !NoEnumerators) && _h.NOverflow >= _overflowLimit))
                {
                    // Below an EnsureCapacity target a doubling also sheds overflow; if it cannot be
                    // had, the target is dropped and the same-size growth Go would do follows.
                    if (!over && _h.B < _targetB && TryGrowTowardTarget())
                    {
                        continue;
                    }
                    if (over)
                    {
                        HashGrow(bigger: true, prefault: true);
                    }
                    else
                    {
                        StartSameSizeGrowth();
                    }
                    continue;
                }
                if (_h.B < _targetB && TryGrowTowardTarget())
                {
                    continue;
                }
            }
            if (_h.Count >= int.MaxValue)
            {
                ThrowHelper.ThrowTooManyEntries();
            }

            TKey* kmem = null;
            TValue* vmem = null;
            if (Bucket<TKey, TValue>.IndirectKey || Bucket<TKey, TValue>.IndirectValue)
            {
                AllocateIndirect(out kmem, out vmem);
            }
            if (insertB == null)
            {
                // The bucket and all its overflow buckets are full: chain a new one.
                try
                {
                    insertB = NewOverflow(last);
                }
                catch
                {
                    FreeIndirect(kmem, vmem);
                    throw;
                }
                insertI = 0;
            }

            // Store the new key at the insert position; the value slot is cleared to default.
            byte* kslot = Bucket<TKey, TValue>.KeySlot(insertB, insertI);
            byte* vslot = Bucket<TKey, TValue>.ValueSlot(insertB, insertI);
            if (Bucket<TKey, TValue>.IndirectKey)
            {
                *(TKey**)kslot = kmem;
                *kmem = key;
            }
            else
            {
                *(TKey*)kslot = key;
            }
            if (Bucket<TKey, TValue>.IndirectValue)
            {
                *(TValue**)vslot = vmem;
            }
            else
            {
                *(TValue*)vslot = default;
            }
            insertB[insertI] = top;
            _h.Count++;
            return new SlotResult(Bucket<TKey, TValue>.Value(insertB, insertI), found: false);
        }
    }

    /// <summary>
    /// What every write that inserts calls: <see cref="AssignSlotFast"/> inline, then the general
    /// <see cref="AssignSlot(TKey, ulong)"/> when it declines. <paramref name="flags"/>:
    /// the flags the writer flag was taken from (what <see cref="AcquireWriter(byte)"/> returned).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* Assign(in TKey key, ulong hash, byte flags, out bool found)
    {
        TValue* v = AssignSlotFast(in key, hash, flags, out found);
        if (v != null)
        {
            return v;
        }
        SlotResult r = AssignSlot(key, hash);
        found = r.Found;
        return r.Value;
    }

    /// <summary>
    /// What <see cref="AssignSlot"/> returns: the value slot and whether the key was already there.
    /// A return value rather than an out parameter and the key by value rather than by reference:
    /// a reference to a caller's local passed to a call that is not inlined keeps that local in the
    /// caller's stack frame, so the inlined fast path stored and reloaded the key and the found flag
    /// (two registers on return here, on x64 Unix).
    /// </summary>
    private readonly struct SlotResult(TValue* value, bool found)
    {
        /// <summary>The value slot (a new slot holds default).</summary>
        public readonly TValue* Value = value;

        /// <summary>Whether the key was already in the map.</summary>
        public readonly bool Found = found;
    }

    /// <summary>
    /// The common case of <see cref="AssignSlot(TKey, ulong)"/>, small enough to inline
    /// into the writes: a plain array (<paramref name="flags"/>, the flags the writer flag was taken
    /// from, has <see cref="PlainReads"/>), no compaction, and a key whose bucket holds it or ends its
    /// chain with an emptyRest cell and no growth trigger can fire (the count below
    /// <see cref="_fastInsertLimit"/>, one compare for the load factor, the overflow count, the
    /// capacity target and the entry limit), so the new entry goes into the first empty cell. Returns null, having changed nothing, wherever the general path must decide
    /// (overflow chains, a full bucket, growth, indirect slots); that path then searches again.
    /// Preconditions: the writer flag is held and <paramref name="hash"/> is under the current seed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* AssignSlotFast(in TKey key, ulong hash, byte flags, out bool found)
    {
        found = false;
        // Compaction is tested here, not folded into the limit: an update during a compaction must
        // take the general path too, which compacts the chain it touches as every write does.
        if (Bucket<TKey, TValue>.IndirectKey || Bucket<TKey, TValue>.IndirectValue || (flags & PlainReads) == 0 || _compacting)
        {
            return null;
        }
        byte* b = Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & _bucketMask);
        if (_writeFirst)
        {
            TouchForWrite(b);
        }
        byte top = TopHash(hash);
        // The same match loop as AssignSlot's, written out: shared through an inlined helper that
        // returns null for no match, the JIT kept a test of that constant null on this path.
        uint matches = Bucket<TKey, TValue>.MatchTopHash(b, top);
        while (matches != 0)
        {
            nuint i = (nuint)BitOperations.TrailingZeroCount(matches);
            if (THasher.KeyEquals(in key, in *Bucket<TKey, TValue>.Key(b, i)))
            {
                found = true;
                return Bucket<TKey, TValue>.Value(b, i);
            }
            matches &= matches - 1;
        }
        if (!Bucket<TKey, TValue>.HasEmptyRest(b) || _h.Count >= _fastInsertLimit)
        {
            return null;
        }
        nuint slot = (nuint)BitOperations.TrailingZeroCount(Bucket<TKey, TValue>.MatchEmpty(b));
        *(TKey*)Bucket<TKey, TValue>.KeySlot(b, slot) = key;
        TValue* v = (TValue*)Bucket<TKey, TValue>.ValueSlot(b, slot);
        *v = default;
        b[slot] = top;
        _h.Count++;
        return v;
    }

    /// <summary>Allocates the separate key and value blocks of one entry (value zeroed), all or nothing.</summary>
    private void AllocateIndirect(out TKey* kmem, out TValue* vmem)
    {
        kmem = null;
        vmem = null;
        if (Bucket<TKey, TValue>.IndirectKey)
        {
            kmem = (TKey*)AllocNative((nuint)sizeof(TKey), zeroed: false);
        }
        if (Bucket<TKey, TValue>.IndirectValue)
        {
            try
            {
                vmem = (TValue*)AllocNative((nuint)sizeof(TValue), zeroed: true);
            }
            catch
            {
                FreeIndirect(kmem, null);
                throw;
            }
        }
    }

    private void FreeIndirect(TKey* kmem, TValue* vmem)
    {
        if (kmem != null)
        {
            FreeNative(kmem, (nuint)sizeof(TKey));
        }
        if (vmem != null)
        {
            FreeNative(vmem, (nuint)sizeof(TValue));
        }
    }
}
