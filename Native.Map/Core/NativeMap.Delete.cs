using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// Removes <paramref name="key"/>. Go: mapdelete.
    /// Preconditions: the caller holds the writer flag.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool DeleteSlot(in TKey key) => DeleteSlot(in key, THasher.Hash(in key, _seed), readValue: false, out _);

    /// <summary>
    /// Removes <paramref name="key"/>, whose hash under the current seed is <paramref name="hash"/>,
    /// returning its value (writer flag held); the value is read only when <paramref name="readValue"/>
    /// (a constant where inlined). Go: mapdelete.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool DeleteSlot(in TKey key, ulong hash, bool readValue, out TValue value)
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
                if (readValue)
                {
                    value = *Bucket<TKey, TValue>.Value(b, i);
                }
                ClearSlot(b, i, hash);
                MarkEmpty(bOrig, b, i);
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
    /// Empties cell <paramref name="i"/> of <paramref name="b"/>, in the chain starting at
    /// <paramref name="bOrig"/>: emptyOne, or emptyRest together with the emptyOne cells before it
    /// when no live cell follows it in the chain. Go: mapdelete's walk back, done on the bucket's
    /// eight tophash bytes at once (<see cref="KeepThroughLastLive"/>).
    /// </summary>
    /// <remarks>
    /// Go walks cell by cell, branching on bytes it has just loaded; those branches mispredict about
    /// as often as a delete lands next to an empty cell. Here the branches are all rare: whether the
    /// cell is the bucket's last (then the overflow bucket decides), whether the last cell is
    /// emptyOne (a live cell follows in an overflow bucket: emptyRest is a suffix of the chain and
    /// every emptyOne has a live cell after it, which <c>CheckInvariants</c> enforces), and whether
    /// an overflow bucket became empty. Reading the overflow pointer for every delete instead of
    /// only for the last cell was slower (it is the bucket's third cache line). Measured with removes
    /// of 10^7 shuffled long keys, 3 alternating pairs: 71.7-75.1 -> 65.8-67.4 ns; 10^5: 29.1 -> 25.7.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MarkEmpty(byte* bOrig, byte* b, nuint i)
    {
        int shift = (int)i * 8;
        ulong tags = (*(ulong*)b & ~(0xFFUL << shift)) | ((ulong)EmptyOne << shift);
        if (i == BucketCount - 1 ? NothingLiveAfter(b) : b[BucketCount - 1] != EmptyOne)
        {
            // Nothing live after this bucket: every cell after its last live one becomes emptyRest.
            tags = KeepThroughLastLive(tags);
            if (b != bOrig && tags == 0)
            {
                *(ulong*)b = 0;
                WalkBackAcrossBuckets(bOrig, b);
                return;
            }
        }
        *(ulong*)b = tags;
    }

    /// <summary>Whether no live cell follows bucket <paramref name="b"/> in its chain (emptyRest is a suffix of the chain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NothingLiveAfter(byte* b)
    {
        byte* next = Bucket<TKey, TValue>.Overflow(b);
        return next == null || next[0] == EmptyRest;
    }

    /// <summary>
    /// The eight tophash bytes <paramref name="tags"/> with every byte after the last live one (tophash
    /// &gt;= minTopHash) set to emptyRest; zero when none is live. Branch-free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong KeepThroughLastLive(ulong tags)
    {
        uint live = Bucket<TKey, TValue>.MatchLive(tags);
        // Bits of the bytes up to and including the last live one: 8 * (index + 1), 0 when none.
        uint bits = (32 - (uint)BitOperations.LeadingZeroCount(live)) * 8;
        if (Bmi2.X64.IsSupported)
        {
            return Bmi2.X64.ZeroHighBits(tags, bits);
        }
        return bits >= 64 ? tags : tags & ((1UL << (int)bits) - 1);
    }

    /// <summary>
    /// Overflow bucket <paramref name="b"/> of the chain at <paramref name="bOrig"/> became all emptyRest:
    /// turns the trailing emptyOne cells of the buckets before it into emptyRest, back to the first
    /// live cell or the start of the chain. Rare (an overflow bucket emptied by this delete).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WalkBackAcrossBuckets(byte* bOrig, byte* b)
    {
        while (b != bOrig)
        {
            byte* p = bOrig;
            while (Bucket<TKey, TValue>.Overflow(p) != b)
            {
                p = Bucket<TKey, TValue>.Overflow(p);
            }
            ulong tags = KeepThroughLastLive(*(ulong*)p);
            *(ulong*)p = tags;
            if (tags != 0)
            {
                return;
            }
            b = p;
        }
    }
}
