using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

/// <summary>White-box view of a map's internals for tests and diagnostics (Go: export_test.go).</summary>
/// <param name="B">log2 of the bucket count.</param>
/// <param name="Flags">hmap.flags.</param>
/// <param name="Hash0">The hash seed.</param>
/// <param name="Buckets">Address of the current bucket array.</param>
/// <param name="OldBuckets">Address of the old array, 0 when not growing.</param>
/// <param name="NEvacuate">Evacuation mark.</param>
/// <param name="NOverflow">Approximate overflow count.</param>
/// <param name="NextOverflow">Next free preallocated overflow bucket, 0 when none.</param>
/// <param name="OverflowChunks">Chunks allocated for overflow buckets of the current array.</param>
/// <param name="ArrayBucketCount">Buckets in the current array allocation, preallocated tail included.</param>
/// <param name="LiveIterators">Registered enumerators.</param>
/// <param name="RetiredTables">Tables kept alive for enumerators.</param>
internal readonly record struct MapDebugState(
    int B,
    byte Flags,
    uint Hash0,
    nint Buckets,
    nint OldBuckets,
    long NEvacuate,
    int NOverflow,
    nint NextOverflow,
    int OverflowChunks,
    long ArrayBucketCount,
    int LiveIterators,
    int RetiredTables);

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    internal MapDebugState GetDebugState()
    {
        int chunks = 0;
        if (_h.Extra != null)
        {
            for (OverflowChunk* c = _h.Extra->Overflow; c != null; c = c->Next)
            {
                chunks++;
            }
        }
        IteratorRegistry? reg = _iterators;
        return new MapDebugState(
            _h.B, _h.Flags, _h.Hash0, (nint)_h.Buckets, (nint)_h.OldBuckets, (long)_h.NEvacuate, _h.NOverflow,
            _h.Extra != null ? (nint)_h.Extra->NextOverflow : 0, chunks, _h.Buckets != null ? (long)ArrayBucketCount(_h.B) : 0,
            reg?.Active ?? 0, reg?.RetiredCount ?? 0);
    }

    /// <summary>The tophash bytes of the chain of bucket <paramref name="bucket"/> in the current array (old array when <paramref name="old"/>).</summary>
    internal List<byte[]> GetChainTopHashes(long bucket, bool old = false)
    {
        var chain = new List<byte[]>();
        byte* array = old ? _h.OldBuckets : _h.Buckets;
        if (array == null)
        {
            return chain;
        }
        for (byte* p = Bucket<TKey, TValue>.At(array, (nuint)bucket); p != null; p = Bucket<TKey, TValue>.Overflow(p))
        {
            chain.Add(new ReadOnlySpan<byte>(p, BucketCount).ToArray());
        }
        return chain;
    }

    /// <summary>The hash the map uses for <paramref name="key"/> now.</summary>
    internal ulong HashOf(in TKey key) => THasher.Hash(in key, _seed);

    /// <summary>Whether <paramref name="address"/> lies in the preallocated tail of the current array.</summary>
    internal bool IsInPreallocatedTail(nint address)
    {
        nuint start = (nuint)Bucket<TKey, TValue>.At(_h.Buckets, BucketShift(_h.B));
        nuint end = (nuint)Bucket<TKey, TValue>.At(_h.Buckets, ArrayBucketCount(_h.B));
        return (nuint)address >= start && (nuint)address < end;
    }

    /// <summary>Address of the first overflow bucket of bucket <paramref name="bucket"/>'s chain, 0 if none.</summary>
    internal nint FirstOverflowOf(long bucket) => (nint)Bucket<TKey, TValue>.Overflow(Bucket<TKey, TValue>.At(_h.Buckets, (nuint)bucket));

    /// <summary>
    /// Checks every structural invariant with a full scan and throws InvalidOperationException naming
    /// the first one broken (Go 1.24: checkInvariants):
    /// Count equals the live cells; each live cell's tophash and bucket match its key's hash; the
    /// emptyRest rule; the PlainReads flag agrees with the arrays; old chains are all-or-none evacuated and every old bucket below nevacuate is;
    /// new buckets whose old bucket is not evacuated are empty; no key appears twice; exact overflow
    /// counts; overflow buckets belong to their own table; native byte accounting adds up.
    /// </summary>
    internal void CheckInvariants()
    {
        if ((_h.Flags & Disposed) != 0)
        {
            return;
        }
        if ((_h.Flags & HashWriting) != 0)
        {
            Fail("the writer flag is still set outside a write");
        }
        if (((_h.Flags & PlainReads) != 0) != (_h.Buckets != null && _h.OldBuckets == null))
        {
            Fail($"PlainReads flag {(_h.Flags & PlainReads) != 0} but buckets {(_h.Buckets != null ? "present" : "absent")}, growing {_h.OldBuckets != null}");
        }
        if (_h.Buckets == null)
        {
            if (_h.Count != 0 || _h.OldBuckets != null)
            {
                Fail($"no buckets but count {_h.Count}");
            }
            return;
        }
        if (_bucketMask != BucketMask(_h.B))
        {
            Fail($"cached bucket mask {_bucketMask:X} does not match B = {_h.B}");
        }
        for (long c = _growLimit - 1; c <= _growLimit + 1; c++)
        {
            if ((c > _growLimit) != OverMapLoadFactor(c, _h.B))
            {
                Fail($"cached growth limit {_growLimit} disagrees with the load factor at count {c}, B = {_h.B}");
            }
        }
        if (!TooManyOverflowBuckets(_overflowLimit, _h.B) || TooManyOverflowBuckets((ushort)(_overflowLimit - 1), _h.B))
        {
            Fail($"cached overflow limit {_overflowLimit} disagrees with TooManyOverflowBuckets at B = {_h.B}");
        }
        if (_writeFirst != (_writeFirstUntil != long.MaxValue))
        {
            Fail($"write-first touch {_writeFirst} disagrees with its cut-off {_writeFirstUntil}");
        }
        if (_fastInsertLimit != FastInsertLimit())
        {
            Fail($"cached fast-insert limit {_fastInsertLimit} differs from {FastInsertLimit()} (count limit {_growLimit}, noverflow {_h.NOverflow} of {_overflowLimit}, B {_h.B}, target {_targetB})");
        }
        var seen = new HashSet<TKey>(new HasherComparer());
        long live = 0;
        long expectedBytes = (long)ArrayBytes(_h.B) + sizeof(MapExtra);
        MapExtra* extra = _h.Extra;
        if (extra == null)
        {
            Fail("bucket array without MapExtra");
        }
        expectedBytes += (long)ChunkBytes(extra->Overflow);
        long overflowBuckets = 0;
        nuint n = BucketShift(_h.B);
        bool growing = Growing;
        for (nuint j = 0; j < n; j++)
        {
            bool mustBeEmpty = growing && !Bucket<TKey, TValue>.Evacuated(Bucket<TKey, TValue>.At(_h.OldBuckets, j & OldBucketMask));
            bool restSeen = false;
            bool emptyOneUnfollowed = false;
            int depth = 0;
            for (byte* p = Bucket<TKey, TValue>.At(_h.Buckets, j); p != null; p = Bucket<TKey, TValue>.Overflow(p), depth++)
            {
                if (depth > 0)
                {
                    overflowBuckets++;
                    CheckOwnedOverflow(p, _h.Buckets, _h.B, extra->Overflow);
                }
                for (nuint i = 0; i < BucketCount; i++)
                {
                    byte top = p[i];
                    if (restSeen && top != EmptyRest)
                    {
                        Fail($"bucket {j} depth {depth} slot {i}: tophash {top} after an emptyRest");
                    }
                    if (top == EmptyRest)
                    {
                        restSeen = true;
                        continue;
                    }
                    if (top == EmptyOne)
                    {
                        emptyOneUnfollowed = true;
                        continue;
                    }
                    emptyOneUnfollowed = false;
                    if (top < MinTopHash)
                    {
                        Fail($"bucket {j}: evacuation mark {top} in the current array");
                    }
                    if (mustBeEmpty)
                    {
                        Fail($"bucket {j} holds entries although its old bucket is not evacuated");
                    }
                    CheckLiveCell(p, i, j, BucketMask(_h.B), top, seen, ref live, ref expectedBytes);
                }
            }
            if (emptyOneUnfollowed)
            {
                // A delete turns the empty cells after a chain's last live entry into emptyRest.
                Fail($"bucket {j}: emptyOne after the last live entry of its chain (should be emptyRest)");
            }
        }
        if (overflowBuckets != _overflowCount)
        {
            Fail($"{overflowBuckets} overflow buckets linked, {_overflowCount} counted");
        }
        if (_h.B < 16 && _h.NOverflow != Math.Min(_overflowCount, ushort.MaxValue))
        {
            Fail($"noverflow {_h.NOverflow} differs from the exact count {_overflowCount} below B = 16");
        }
        if (growing)
        {
            byte oldB = OldB;
            nuint nold = NOldBuckets;
            expectedBytes += (long)ArrayBytes(oldB) + (long)ChunkBytes(extra->OldOverflow);
            long oldOverflow = 0;
            if (_h.NEvacuate > nold)
            {
                Fail($"nevacuate {_h.NEvacuate} beyond {nold} old buckets");
            }
            for (nuint k = 0; k < nold; k++)
            {
                byte* first = Bucket<TKey, TValue>.At(_h.OldBuckets, k);
                bool evacuated = Bucket<TKey, TValue>.Evacuated(first);
                if (k < _h.NEvacuate && !evacuated)
                {
                    Fail($"old bucket {k} below nevacuate {_h.NEvacuate} is not evacuated");
                }
                int depth = 0;
                for (byte* p = first; p != null; p = Bucket<TKey, TValue>.Overflow(p), depth++)
                {
                    if (depth > 0)
                    {
                        oldOverflow++;
                        CheckOwnedOverflow(p, _h.OldBuckets, oldB, extra->OldOverflow);
                    }
                    for (nuint i = 0; i < BucketCount; i++)
                    {
                        byte top = p[i];
                        bool mark = top is EvacuatedX or EvacuatedY or EvacuatedEmpty;
                        if (evacuated != mark)
                        {
                            Fail($"old bucket {k} depth {depth} slot {i}: tophash {top} in a chain that is {(evacuated ? "" : "not ")}evacuated");
                        }
                        if (!evacuated && top >= MinTopHash)
                        {
                            CheckLiveCell(p, i, k, BucketMask(oldB), top, seen, ref live, ref expectedBytes);
                        }
                    }
                }
            }
            if (oldOverflow != _oldOverflowCount)
            {
                Fail($"{oldOverflow} old overflow buckets linked, {_oldOverflowCount} counted");
            }
        }
        if (live != _h.Count)
        {
            Fail($"count {_h.Count} but {live} live cells");
        }
        IteratorRegistry? reg = _iterators;
        if (reg != null)
        {
            lock (reg)
            {
                for (int i = 0; i < reg.RetiredCount; i++)
                {
                    expectedBytes += (long)reg.RetiredTables[i].ArrayBytes + (long)ChunkBytes(reg.RetiredTables[i].Chunks);
                }
            }
        }
        if (expectedBytes != Interlocked.Read(ref _nativeBytes))
        {
            Fail($"native bytes {_nativeBytes} but the structures add up to {expectedBytes}");
        }
    }

    private void CheckLiveCell(byte* p, nuint i, nuint bucket, nuint mask, byte top, HashSet<TKey> seen, ref long live, ref long expectedBytes)
    {
        TKey* k = Bucket<TKey, TValue>.Key(p, i);
        if (k == null)
        {
            Fail($"bucket {bucket}: live cell {i} with a null key block");
        }
        ulong hash = THasher.Hash(in *k, _seed);
        if (TopHash(hash) != top)
        {
            Fail($"bucket {bucket} slot {i}: tophash {top}, key hashes to {TopHash(hash)}");
        }
        if (((nuint)hash & mask) != bucket)
        {
            Fail($"key in bucket {bucket} hashes to bucket {(nuint)hash & mask}");
        }
        if (!seen.Add(*k))
        {
            Fail($"key {*k} is stored twice");
        }
        if (Bucket<TKey, TValue>.IndirectKey)
        {
            expectedBytes += sizeof(TKey);
        }
        if (Bucket<TKey, TValue>.IndirectValue)
        {
            if (*(void**)Bucket<TKey, TValue>.ValueSlot(p, i) == null)
            {
                Fail($"bucket {bucket}: live cell {i} with a null value block");
            }
            expectedBytes += sizeof(TValue);
        }
        live++;
    }

    private static void CheckOwnedOverflow(byte* p, byte* array, byte b, OverflowChunk* chunks)
    {
        if (p >= Bucket<TKey, TValue>.At(array, BucketShift(b)) && p < Bucket<TKey, TValue>.At(array, ArrayBucketCount(b)))
        {
            return;
        }
        for (OverflowChunk* c = chunks; c != null; c = c->Next)
        {
            byte* first = (byte*)c + OverflowChunk.HeaderSize;
            if (p >= first && p < Bucket<TKey, TValue>.At(first, c->BucketCount))
            {
                return;
            }
        }
        Fail("an overflow bucket lies outside its table's tail and chunks");
    }

    private static nuint ChunkBytes(OverflowChunk* c)
    {
        nuint total = 0;
        for (; c != null; c = c->Next)
        {
            total += c->Bytes;
        }
        return total;
    }

    private static void Fail(string message) => ThrowHelper.ThrowInvariant(message);

    private sealed class HasherComparer : IEqualityComparer<TKey>
    {
        public bool Equals(TKey x, TKey y) => THasher.KeyEquals(in x, in y);

        public int GetHashCode(TKey obj) => (int)THasher.Hash(in obj, 0);
    }
}
