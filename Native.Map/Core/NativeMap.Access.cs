using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// The chain a lookup for <paramref name="hash"/> must read: the new bucket, or while growing the
    /// old bucket if it has not been evacuated yet. Preconditions: Buckets != null.
    /// </summary>
    /// <remarks>
    /// Old buckets below nevacuate are not read (<see cref="UnevacuatedOldBucket"/>): Go reads each
    /// one's first byte for every lookup, a cache miss on the old array that the new bucket's read
    /// then waits for. Shuffled lookups of long keys part way through the doubling
    /// that starts at 6.8·10^6, alternating processes against the old code (3 pairs): at 7·10^6
    /// (nevacuate 19 % of the way) hits 61.0-62.2 -> 54.1-55.9 ns, misses 65.3-65.5 -> 56.2-58.8; at
    /// 7.5·10^6 (92 %) hits 45.8-47.1 -> 41.5-42.7, misses 44.3-45.4 -> 41.0-42.1, and TryGetValues,
    /// which skips the old bucket's prefetch the same way, hits 38.3-39.1 -> 27.0-28.0 and misses
    /// 28.4-29.1 -> 21.2-21.9. Just after the start (nevacuate near zero) and outside a growth: unchanged.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* ReadBucket(ulong hash)
    {
        byte* b = Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & _bucketMask);
        byte* c = _h.OldBuckets;
        if (c != null)
        {
            byte* oldb = UnevacuatedOldBucket(c, (nuint)hash & OldBucketMask);
            if (oldb != null)
            {
                b = oldb;
            }
        }
        return b;
    }

    /// <summary>
    /// Whether old bucket <paramref name="oldbucket"/> is known to be evacuated without reading it:
    /// every old bucket below nevacuate is (<see cref="AdvanceEvacuationMark"/> only moves it past
    /// evacuated buckets; <c>CheckInvariants</c> enforces it). Preconditions: growing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool BelowEvacuationMark(nuint oldbucket) => oldbucket < _h.NEvacuate;

    /// <summary>
    /// Old bucket <paramref name="oldbucket"/> of array <paramref name="old"/> (the map's old array),
    /// or null when it has been evacuated; below nevacuate that is known without reading the bucket.
    /// What lookups, evacuation and enumerators ask of an old bucket. Preconditions: growing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* UnevacuatedOldBucket(byte* old, nuint oldbucket)
    {
        if (BelowEvacuationMark(oldbucket))
        {
            return null;
        }
        byte* b = Bucket<TKey, TValue>.At(old, oldbucket);
        return Bucket<TKey, TValue>.Evacuated(b) ? null : b;
    }

    /// <summary>
    /// The value stored for <paramref name="key"/>, or null; <paramref name="storedKey"/> is the key as
    /// stored (what <see cref="IKeyHasher{TKey}.KeyEquals"/> matched). No flag checks: callers do
    /// them, and hash the key, checking after the hash that the map did not change since
    /// <paramref name="version"/> (<see cref="ReadVersion"/>, read before it). Go: mapaccess2 / mapaccessK.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* FindEntry(in TKey key, ulong hash, int version, out TKey* storedKey, bool prefetched = false)
    {
        if (ProbeCounters.Enabled)
        {
            return FindEntryCountingProbes(in key, hash, version, out storedKey);
        }
        if (_h.Count != 0)
        {
            byte* b = ReadBucket(hash);
            if (!prefetched)
            {
                Bucket<TKey, TValue>.PrefetchRest(b);
            }
            return FindInChain(in key, b, TopHash(hash), version, out storedKey);
        }
        storedKey = null;
        return null;
    }

    /// <summary>
    /// The value stored for <paramref name="key"/> in the chain that starts at bucket
    /// <paramref name="b"/>, or null: tophash bytes matched 8 at a time, the walk ending at an
    /// emptyRest cell or the end of the chain. Go: mapaccess's bucketloop. Shared by single and
    /// batched lookups. Returns the value pointer itself rather than a found flag and a slot, so that
    /// an inlined caller's hit path is one load (measured in the JIT's code: 10 instructions fewer).
    /// After each key comparison, which may run user code, the map must not have changed since
    /// <paramref name="version"/> (<see cref="CheckUnchangedSince"/>; nothing for built-in keys).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* FindInChain(in TKey key, byte* b, byte top, int version, out TKey* storedKey)
    {
        do
        {
            uint matches = Bucket<TKey, TValue>.MatchTopHash(b, top);
            while (matches != 0)
            {
                nuint i = (nuint)BitOperations.TrailingZeroCount(matches);
                TKey* k = Bucket<TKey, TValue>.Key(b, i);
                bool equal = THasher.KeyEquals(in key, in *k);
                CheckUnchangedSince(version);
                if (equal)
                {
                    storedKey = k;
                    return Bucket<TKey, TValue>.Value(b, i);
                }
                matches &= matches - 1;
            }
            if (Bucket<TKey, TValue>.HasEmptyRest(b))
            {
                break;
            }
            b = Bucket<TKey, TValue>.Overflow(b);
        }
        while (b != null);
        storedKey = null;
        return null;
    }

    /// <summary>
    /// Hashes a key before a write takes the writer flag and prefetches its bucket. The flag's
    /// compare-and-swap is a full fence that waits for the previous write's cache misses; issuing
    /// this write's bucket load ahead of it lets the two misses overlap. Returns the hash and the seed
    /// it was computed with (the write recomputes the hash if the seed changed before it got the
    /// flag) and the flags it checked, which <see cref="AcquireWriter(byte)"/> expects to find.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong HashAndPrefetch(in TKey key, out ulong seed, out byte flags)
    {
        byte f = _h.Flags;
        flags = f;
        if ((f & (HashWriting | Disposed)) != 0)
        {
            // Refuse before running the user's hash code: a write re-entered from that very code
            // must fail here, not recurse. Only a check: the flag is taken by AcquireWriter.
            ThrowWriteRefused(f);
        }
        seed = _seed;
        ulong hash = THasher.Hash(in key, seed);
        PrefetchBucket(hash);
        return hash;
    }

    /// <summary>Prefetches every line of the bucket <paramref name="hash"/> selects in the current array (an insert reads tophash and keys and writes a value).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchBucket(ulong hash)
    {
        byte* buckets = _h.Buckets;
        if (buckets != null)
        {
            Bucket<TKey, TValue>.PrefetchWhole(Bucket<TKey, TValue>.At(buckets, (nuint)hash & _bucketMask));
        }
    }

    /// <summary>The hash of a key for a write holding the flag, reusing the one from <see cref="HashAndPrefetch"/> when the seed is unchanged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong RehashIfReseeded(in TKey key, ulong hash, ulong seed) => seed == _seed ? hash : THasher.Hash(in key, _seed);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal TValue* FindValueForMarshal(in TKey key)
    {
        TValue* v = FindValue(in key);
        GC.KeepAlive(this);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal TValue* AssignForMarshal(in TKey key, out bool exists)
    {
        ulong hash = HashAndPrefetch(in key, out ulong seed, out byte flags);
        flags = AcquireWriter(flags);
        try
        {
            return Assign(in key, RehashIfReseeded(in key, hash, seed), flags, out exists);
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>Pointer to the value stored for <paramref name="key"/>, or null. Checks flags. Go: mapaccess1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* FindValue(in TKey key)
    {
        int version = ReadVersion();
        if ((_h.Flags & (HashWriting | Disposed | PlainReads)) == PlainReads && !ProbeCounters.Enabled)
        {
            // One flag test stands for the reader check, the empty-map test and the growth test
            // (the key's hash code may change all three: CheckUnchangedSince).
            ulong hash = HashForRead(in key, _seed, version);
            byte* b = Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & _bucketMask);
            Bucket<TKey, TValue>.PrefetchRest(b);
            return FindInChain(in key, b, TopHash(hash), version, out _);
        }
        // Empty, growing, being written or disposed. Inline as well: lookups during a growth are
        // common, and as a call this path measured 25 % slower for them.
        CheckRead();
        return FindEntry(in key, HashForRead(in key, _seed, version), version, out _);
    }

    /// <summary>
    /// FindEntry as Go's byte loop, counting the filled slots examined (Go's hitprobe/missprobe):
    /// only reached when <see cref="ProbeCounters.Enabled"/>.
    /// </summary>
    private TValue* FindEntryCountingProbes(in TKey key, ulong hash, int version, out TKey* storedKey)
    {
        long probes = 0;
        if (_h.Count != 0)
        {
            byte top = TopHash(hash);
            for (byte* b = ReadBucket(hash); b != null; b = Bucket<TKey, TValue>.Overflow(b))
            {
                for (nuint i = 0; i < BucketCount; i++)
                {
                    byte t = b[i];
                    if (t == EmptyRest)
                    {
                        goto miss;
                    }
                    if (t < MinTopHash)
                    {
                        continue;
                    }
                    probes++;
                    if (t != top)
                    {
                        continue;
                    }
                    bool equal = THasher.KeyEquals(in key, in *Bucket<TKey, TValue>.Key(b, i));
                    CheckUnchangedSince(version);
                    if (equal)
                    {
                        ProbeCounters.RecordHit(probes);
                        storedKey = Bucket<TKey, TValue>.Key(b, i);
                        return Bucket<TKey, TValue>.Value(b, i);
                    }
                }
            }
        }
    miss:
        ProbeCounters.RecordMiss(probes);
        storedKey = null;
        return null;
    }
}
