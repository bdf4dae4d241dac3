using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    // ---- native memory, all through the allocator gate -----------------------------------------

    private void* AllocNative(nuint bytes, bool zeroed)
    {
        void* p = _allocator.Allocate(bytes, zeroed);
        Interlocked.Add(ref _nativeBytes, (long)bytes);
        NativeMapMemory.AddBytes((long)bytes);
        return p;
    }

    private void FreeNative(void* p, nuint bytes)
    {
        _allocator.Free(p, bytes);
        Interlocked.Add(ref _nativeBytes, -(long)bytes);
        NativeMapMemory.AddBytes(-(long)bytes);
    }

    private void FreeChunks(OverflowChunk* chunk)
    {
        while (chunk != null)
        {
            OverflowChunk* next = chunk->Next;
            FreeNative(chunk, chunk->Bytes);
            chunk = next;
        }
    }

    /// <summary>
    /// Frees a table: its overflow chunks and its array (when <paramref name="arrayBytes"/> is not 0),
    /// handed to the page worker as one batch (see <see cref="Memory.PageWorker"/>).
    /// </summary>
    private void FreeTable(byte* array, nuint arrayBytes, OverflowChunk* chunks)
    {
        using (Memory.PageWorker.Batch())
        {
            FreeChunks(chunks);
            if (arrayBytes != 0)
            {
                FreeNative(array, arrayBytes);
            }
        }
    }

    private static void ZeroChunks(OverflowChunk* chunk)
    {
        for (; chunk != null; chunk = chunk->Next)
        {
            new Span<byte>((byte*)chunk + OverflowChunk.HeaderSize, checked((int)(chunk->BucketCount * (nuint)BucketSize))).Clear();
        }
    }

    private static void ZeroBlock(byte* p, nuint bytes)
    {
        System.Runtime.InteropServices.NativeMemory.Clear(p, bytes);
    }

    /// <summary>
    /// Drops a table the map no longer uses: an array (when <paramref name="arrayBytes"/> is not 0) and
    /// its overflow chunks. Freed now, or retired if an enumerator pins <paramref name="array"/>;
    /// <paramref name="zeroIfRetained"/> wipes a retired table whose entries no longer exist (Clear).
    /// </summary>
    private void ReleaseTable(byte* array, nuint arrayBytes, byte b, OverflowChunk* chunks, bool zeroIfRetained)
    {
        IteratorRegistry? reg = _iterators;
        if (reg != null)
        {
            lock (reg)
            {
                if (reg.Active > 0 && reg.IsPinned(array))
                {
                    if (zeroIfRetained)
                    {
                        if (arrayBytes != 0)
                        {
                            ZeroBlock(array, arrayBytes);
                        }
                        ZeroChunks(chunks);
                    }
                    reg.AddRetired(new IteratorRegistry.Retired { Array = array, ArrayBytes = arrayBytes, B = b, Chunks = chunks });
                    return;
                }
            }
        }
        FreeTable(array, arrayBytes, chunks);
    }

    /// <summary>Frees retired tables no enumerator pins any more. Preconditions: lock on <paramref name="reg"/>.</summary>
    private void FreeUnpinnedRetired(IteratorRegistry reg)
    {
        for (int i = reg.RetiredCount - 1; i >= 0; i--)
        {
            IteratorRegistry.Retired r = reg.RetiredTables[i];
            if (reg.Active > 0 && reg.IsPinned(r.Array))
            {
                continue;
            }
            FreeTable(r.Array, r.ArrayBytes, r.Chunks);
            reg.RetiredTables[i] = reg.RetiredTables[--reg.RetiredCount];
            reg.RetiredTables[reg.RetiredCount] = default;
        }
    }

    // ---- enumerator registration ---------------------------------------------------------------

    private IteratorRegistry Registry
    {
        get
        {
            IteratorRegistry? reg = _iterators;
            if (reg == null)
            {
                Interlocked.CompareExchange(ref _iterators, new IteratorRegistry(), null);
                reg = _iterators!;
            }
            return reg;
        }
    }

    internal IteratorState RegisterIterator(byte* snapshot)
    {
        IteratorRegistry reg = Registry;
        lock (reg)
        {
            return reg.AllocateSlot(snapshot);
        }
    }

    internal void UnregisterIterator(int slot, uint token)
    {
        IteratorRegistry? reg = _iterators;
        if (reg == null)
        {
            return;
        }
        lock (reg)
        {
            IteratorState? state = reg.Owned(slot, token);
            if (state != null)
            {
                reg.FreeSlot(state);
                _version++;
                if ((_h.Flags & Disposed) == 0)
                {
                    FreeUnpinnedRetired(reg);
                }
            }
        }
    }

    /// <summary>Records that enumerator <paramref name="slot"/> now walks a chain of <paramref name="array"/>, releasing its previous extra pin.</summary>
    private void PinCurrentArray(int slot, uint token, byte* array)
    {
        IteratorRegistry reg = _iterators!;
        lock (reg)
        {
            IteratorState? s = reg.Owned(slot, token);
            if (s == null || s.CurrentPin == array || s.Buckets == array)
            {
                return;
            }
            s.CurrentPin = array;
            FreeUnpinnedRetired(reg);
        }
    }

    /// <summary>
    /// An indirect key block is about to be freed: null every stale copy of its pointer in arrays an
    /// enumerator may still read (the old array, retired arrays), so no enumerator follows it.
    /// </summary>
    private void ScrubStaleKeyCopies(ulong hash, TKey* kmem)
    {
        IteratorRegistry? reg = _iterators;
        if (reg == null || Volatile.Read(ref reg.Active) == 0)
        {
            return;
        }
        lock (reg)
        {
            if (_h.OldBuckets != null)
            {
                ScrubChain(_h.OldBuckets, OldB, hash, kmem);
            }
            for (int i = 0; i < reg.RetiredCount; i++)
            {
                if (reg.RetiredTables[i].ArrayBytes != 0)
                {
                    ScrubChain(reg.RetiredTables[i].Array, reg.RetiredTables[i].B, hash, kmem);
                }
            }
        }
    }

    private static void ScrubChain(byte* array, byte b, ulong hash, TKey* kmem)
    {
        for (byte* p = Bucket<TKey, TValue>.At(array, (nuint)hash & BucketMask(b)); p != null; p = Bucket<TKey, TValue>.Overflow(p))
        {
            for (nuint i = 0; i < BucketCount; i++)
            {
                if ((p[i] == EvacuatedX || p[i] == EvacuatedY) && *(TKey**)Bucket<TKey, TValue>.KeySlot(p, i) == kmem)
                {
                    *(TKey**)Bucket<TKey, TValue>.KeySlot(p, i) = null;
                }
            }
        }
    }

    // ---- clear and dispose ---------------------------------------------------------------------

    /// <summary>Frees the indirect key/value blocks of every live entry (current array and not-yet-evacuated old buckets).</summary>
    private void FreeAllIndirectBlocks()
    {
        if (!Bucket<TKey, TValue>.IndirectKey && !Bucket<TKey, TValue>.IndirectValue)
        {
            return;
        }
        if (_h.Buckets != null)
        {
            FreeIndirectBlocksOf(_h.Buckets, BucketShift(_h.B));
        }
        if (_h.OldBuckets != null)
        {
            FreeIndirectBlocksOf(_h.OldBuckets, NOldBuckets);
        }
    }

    private void FreeIndirectBlocksOf(byte* array, nuint nbuckets)
    {
        for (nuint j = 0; j < nbuckets; j++)
        {
            for (byte* p = Bucket<TKey, TValue>.At(array, j); p != null; p = Bucket<TKey, TValue>.Overflow(p))
            {
                for (nuint i = 0; i < BucketCount; i++)
                {
                    if (p[i] < MinTopHash)
                    {
                        continue; // empty, or evacuated: the live copy owns the blocks
                    }
                    if (Bucket<TKey, TValue>.IndirectKey)
                    {
                        FreeNative(*(void**)Bucket<TKey, TValue>.KeySlot(p, i), (nuint)sizeof(TKey));
                        *(void**)Bucket<TKey, TValue>.KeySlot(p, i) = null;
                    }
                    if (Bucket<TKey, TValue>.IndirectValue)
                    {
                        FreeNative(*(void**)Bucket<TKey, TValue>.ValueSlot(p, i), (nuint)sizeof(TValue));
                        *(void**)Bucket<TKey, TValue>.ValueSlot(p, i) = null;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Go's clear(m) (mapclear): drops every entry but keeps the bucket array, so refilling to the
    /// same size grows nothing; drops the old array and overflow buckets; picks a new seed.
    /// Preconditions: the caller holds the writer flag.
    /// </summary>
    private void ClearLocked()
    {
        if (_h.Count == 0)
        {
            return;
        }
        FreeAllIndirectBlocks();
        MapExtra* extra = _h.Extra;
        if (_h.OldBuckets != null)
        {
            byte oldB = OldB;
            byte* old = _h.OldBuckets;
            OverflowChunk* oldChunks = extra->OldOverflow;
            SetArrays(_h.Buckets, null);
            extra->OldOverflow = null;
            ReleaseTable(old, ArrayBytes(oldB), oldB, oldChunks, zeroIfRetained: true);
            OnGrowthFinished(!IsSameSizeGrow, GrowthEnd.Cleared);
        }
        ResetOverflowRecycling(GrowthEnd.Cleared);
        OverflowChunk* chunks = extra->Overflow;
        extra->Overflow = null;
        if (chunks != null)
        {
            ReleaseTable(_h.Buckets, 0, _h.B, chunks, zeroIfRetained: true);
        }
        ZeroRetiredTables();
        ZeroBlock(_h.Buckets, ArrayBytes(_h.B));
        nuint nbuckets = ArrayBucketCount(_h.B);
        nuint nbase = BucketShift(_h.B);
        MarkPreallocatedTail(_h.Buckets, nbase, nbuckets);
        extra->NextOverflow = nbase != nbuckets ? Bucket<TKey, TValue>.At(_h.Buckets, nbase) : null;
        _h.Flags &= unchecked((byte)~SameSizeGrow);
        _h.NEvacuate = 0;
        SetNOverflow(0);
        _h.Count = 0;
        _overflowCount = 0;
        _oldOverflowCount = 0;
        Reseed();
    }

    /// <summary>Wipes tables kept for enumerators, whose entries Clear just removed (and whose indirect blocks it freed).</summary>
    private void ZeroRetiredTables()
    {
        IteratorRegistry? reg = _iterators;
        if (reg == null)
        {
            return;
        }
        lock (reg)
        {
            for (int i = 0; i < reg.RetiredCount; i++)
            {
                IteratorRegistry.Retired r = reg.RetiredTables[i];
                if (r.ArrayBytes != 0)
                {
                    ZeroBlock(r.Array, r.ArrayBytes);
                }
                ZeroChunks(r.Chunks);
            }
        }
    }

    /// <summary>
    /// Frees everything this map owns, exactly once (Dispose or the finalizer). Pointers are nulled
    /// before the memory goes, so a racing reader sees an empty map rather than freed memory where
    /// it can.
    /// </summary>
    private void FreeAll()
    {
        if (Growing)
        {
            OnGrowthFinished(!IsSameSizeGrow, GrowthEnd.Disposed);
        }
        ResetOverflowRecycling(GrowthEnd.Disposed);
        FreeAllIndirectBlocks();
        MapExtra* extra = _h.Extra;
        byte* buckets = _h.Buckets;
        byte* old = _h.OldBuckets;
        byte b = _h.B;
        byte oldB = old != null ? OldB : (byte)0;
        _h.Count = 0;
        SetArrays(null, null);
        _h.Extra = null;
        if (old != null)
        {
            FreeTable(old, ArrayBytes(oldB), extra->OldOverflow);
        }
        if (buckets != null)
        {
            FreeTable(buckets, ArrayBytes(b), extra->Overflow);
        }
        if (extra != null)
        {
            FreeNative(extra, (nuint)sizeof(MapExtra));
        }
        IteratorRegistry? reg = _iterators;
        if (reg != null)
        {
            lock (reg)
            {
                reg.FreeAll();
                FreeUnpinnedRetired(reg);
            }
        }
        NativeMapMemory.MapReleased();
    }
}
