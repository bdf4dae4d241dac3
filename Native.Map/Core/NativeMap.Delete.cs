using System.Numerics;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// Removes <paramref name="key"/>, returning its value. Go: mapdelete.
    /// Preconditions: the caller holds the writer flag.
    /// </summary>
    private bool DeleteSlot(in TKey key, out TValue value) => DeleteSlot(in key, THasher.Hash(in key, _seed), out value);

    /// <summary><see cref="DeleteSlot(in TKey, out TValue)"/> with the key's hash under the current seed (writer flag held).</summary>
    private bool DeleteSlot(in TKey key, ulong hash, out TValue value)
    {
        value = default;
        if (_h.Count == 0)
        {
            return false;
        }
        nuint bucket = (nuint)hash & _bucketMask;
        GrowthWork(bucket);
        byte* b = Bucket<TKey, TValue>.At(_h.Buckets, bucket);
        byte* bOrig = b;
        byte top = TopHash(hash);
        do
        {
            uint matches = Bucket<TKey, TValue>.MatchTopHash(b, top);
            while (matches != 0)
            {
                nuint i = (nuint)BitOperations.TrailingZeroCount(matches);
                matches &= matches - 1;
                TKey* k = Bucket<TKey, TValue>.Key(b, i);
                if (!THasher.KeyEquals(in key, in *k))
                {
                    continue;
                }
                value = *Bucket<TKey, TValue>.Value(b, i);
                ClearSlot(b, i, hash);
                b[i] = EmptyOne;
                // If the bucket now ends in a run of emptyOne cells, turn them into emptyRest.
                WalkBackEmptyRest(bOrig, b, i);
                _h.Count--;
                if (_h.Count == 0)
                {
                    // Reset the hash seed to make it more difficult for attackers to repeatedly
                    // trigger hash collisions. Go issue 25237.
                    Reseed();
                }
                return true;
            }
            if (Bucket<TKey, TValue>.HasEmptyRest(b))
            {
                break;
            }
            b = Bucket<TKey, TValue>.Overflow(b);
        }
        while (b != null);
        return false;
    }

    /// <summary>
    /// Frees an entry's indirect blocks (scrubbing stale copies first). Unlike Go, the key and value
    /// bytes are left as they are: Go clears them for its garbage collector; here nothing reads an
    /// empty cell, and an insert writes both (the value as default), so clearing would only cost a
    /// write to the value's cache line.
    /// </summary>
    private void ClearSlot(byte* b, nuint i, ulong hash)
    {
        if (Bucket<TKey, TValue>.IndirectKey)
        {
            TKey** kslot = (TKey**)Bucket<TKey, TValue>.KeySlot(b, i);
            ScrubStaleKeyCopies(hash, *kslot);
            FreeNative(*kslot, (nuint)sizeof(TKey));
            *kslot = null;
        }
        if (Bucket<TKey, TValue>.IndirectValue)
        {
            TValue** vslot = (TValue**)Bucket<TKey, TValue>.ValueSlot(b, i);
            FreeNative(*vslot, (nuint)sizeof(TValue));
            *vslot = null;
        }
    }

    /// <summary>
    /// Slot <paramref name="i"/> of <paramref name="b"/> just became emptyOne. If every cell after it in
    /// the chain is emptyRest, mark it and the run of emptyOne cells before it emptyRest, walking back
    /// across overflow buckets to the start of the chain <paramref name="bOrig"/>. Go: mapdelete's loop.
    /// </summary>
    private static void WalkBackEmptyRest(byte* bOrig, byte* b, nuint i)
    {
        if (i == BucketCount - 1)
        {
            byte* next = Bucket<TKey, TValue>.Overflow(b);
            if (next != null && next[0] != EmptyRest)
            {
                return;
            }
        }
        else if (b[i + 1] != EmptyRest)
        {
            return;
        }
        while (true)
        {
            b[i] = EmptyRest;
            if (i == 0)
            {
                if (b == bOrig)
                {
                    return; // beginning of the initial bucket: done
                }
                // Find the previous bucket and continue at its last entry.
                byte* c = b;
                for (b = bOrig; Bucket<TKey, TValue>.Overflow(b) != c; b = Bucket<TKey, TValue>.Overflow(b))
                {
                }
                i = BucketCount - 1;
            }
            else
            {
                i--;
            }
            if (b[i] != EmptyOne)
            {
                return;
            }
        }
    }
}
