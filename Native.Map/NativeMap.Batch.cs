using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Native.Map.Core;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// Keys between the batched writes' (<see cref="SetValues"/>, <see cref="RemoveKeys(ReadOnlySpan{TKey})"/>)
    /// bucket prefetch of a key and its write. A random line takes about 230 ns to arrive here.
    /// Measured removing 10^7 shuffled long keys in batches of 65,536 (ns per key, 3 alternating
    /// runs): 4: 33.3-33.9, 8: 25.0-25.5, 16: 19.4-20.2, 24: 17.4-18.7, 32: 18.3-18.5; at 10^6, 8:
    /// 15.0-17.4, 24: 11.4-11.5. SetValues in batches of 1,024 (medians of alternating processes):
    /// presized 10^7 30.9-37.0 (8) against 22.1-26.3 (24), 10^6 26.6-29.4 against 21.4-24.2; from
    /// empty 10^7 50.6-58.5 against 44.0-53.2; 10^5 the same.
    /// </summary>
    private const int WriteStage = 24;

    /// <summary>The ring of hashes the batched writes carry: a power of two above <see cref="WriteStage"/>, so that a slot is an and, not a division.</summary>
    private const int WriteRing = 32;

    /// <summary>
    /// Keys between the stages of <see cref="TryGetValues"/>'s pipeline: tophash prefetch, slot (or
    /// overflow pointer) prefetch, overflow bucket prefetch, lookup. A random line takes about 230 ns
    /// to arrive here, so each stage must come that long after the one before: measured at 10^7 long
    /// keys (misses / hits, ns per key) with three stages 8: 24 / 27, 12: 20-24 / 26-27, 16: 19 / 26-28,
    /// 20: 19-20 / 28-30; with two stages (before the overflow stage) 8: 30-35 / 30-33, 16: 26-28 /
    /// 30-31, 24: 25-31 / 31-34.
    /// </summary>
    private const int LookupStage = 16;

    /// <summary>
    /// Bucket arrays smaller than this are looked up key by key: they sit in the last-level cache,
    /// where the pipeline's bookkeeping costs more than the misses it hides (measured at 10^3 to
    /// 1.6·10^6 long keys: the prefetching pipeline broke even at an 11 MB table and was 1.7x slower
    /// than plain lookups at 10^3). A field, not a constant, so that tests can run the pipeline on
    /// small maps.
    /// </summary>
    internal ulong _pipelinedLookupMinBytes = 8UL << 20;

    /// <summary>
    /// Looks up many keys at once, overlapping their cache misses: a key's hash is computed and its
    /// tophash line prefetched <c>3 * LookupStage</c> keys before it is resolved; <c>2 * LookupStage</c>
    /// keys before, its (by then cached) tophash bytes pick the matching slot, whose key and value
    /// lines are prefetched, or, for a full bucket without a match, the overflow pointer's line;
    /// <c>LookupStage</c> keys before, that overflow bucket is prefetched; then the key is resolved
    /// from cache. Only the lines a lookup reads are fetched. While a growth is under way a two-stage
    /// pipeline (without the overflow stage) looks in whichever array holds each key.
    /// </summary>
    /// <param name="keys">Keys to look up.</param>
    /// <param name="values">Receives each key's value, or default; at least as long as <paramref name="keys"/>.</param>
    /// <param name="found">Receives whether each key is present; at least as long as <paramref name="keys"/>.</param>
    /// <returns>How many keys were found.</returns>
    /// <exception cref="ArgumentException">An output span is shorter than <paramref name="keys"/>, or the spans overlap (the keys are read ahead of the outputs written for earlier keys).</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed (also by a key's own hash or equality code during the batch).</exception>
    /// <exception cref="InvalidOperationException">A key's hash or equality code wrote to the map during the batch (or another thread did); the outputs of the keys before it may be written.</exception>
    public int TryGetValues(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> found)
    {
        CheckBatchOutputs(keys, values, found);
        CheckRead();
        int n = keys.Length;
        if (_h.Count == 0)
        {
            values[..n].Clear();
            found[..n].Clear();
            return 0;
        }
        // Every path checks, after each call into the key's hash or equality code, that the map did
        // not change since here (CheckUnchangedSince): the pipelines carry buckets computed keys ahead.
        int version = ReadVersion();
        // No growth under way and no probe counting: the array, mask and seed hold for the batch.
        bool plain = _h.OldBuckets == null && !ProbeCounters.Enabled;
        if ((ulong)ArrayBytes(_h.B) < _pipelinedLookupMinBytes)
        {
            return plain
                ? TryGetValuesFromCachePlain(keys, values, found, version)
                : TryGetValuesFromCache(keys, values, found, version);
        }
        if (plain)
        {
            return TryGetValuesPipelined(keys, values, found, version);
        }
        // Growing (or counting probes): two stages, each key's array decided when it is read.
        const int Ring = 2 * LookupStage;
        Span<ulong> hashes = stackalloc ulong[Ring];
        for (int j = 0; j < Math.Min(Ring, n); j++)
        {
            hashes[j] = HashAndPrefetchTopHash(in keys[j], version);
        }
        for (int j = 0; j < Math.Min(LookupStage, n); j++)
        {
            PrefetchMatchingSlot(hashes[j]);
        }
        int hits = 0;
        for (int i = 0; i < n; i++)
        {
            if (i + LookupStage < n)
            {
                PrefetchMatchingSlot(hashes[(i + LookupStage) & (Ring - 1)]);
            }
            ulong hash = hashes[i & (Ring - 1)];
            if (i + Ring < n)
            {
                hashes[i & (Ring - 1)] = HashAndPrefetchTopHash(in keys[i + Ring], version);
            }
            hits += LookupInto(in keys[i], hash, version, prefetched: true, out values[i], out found[i]);
        }
        GC.KeepAlive(this);
        return hits;
    }

    /// <summary>
    /// The batched lookup's pipeline when no growth is under way: the bucket array, its mask and the
    /// seed are read once; each key's bucket and tophash are computed once (stage 1) and carried in a
    /// ring through stage 2 (match the tophash bytes, prefetch the slot or the overflow pointer) and
    /// stage 3 (prefetch the overflow bucket) to the lookup itself; and the spans are read through
    /// pointers, so the loop is not held back by reloads and bounds checks.
    /// </summary>
    private int TryGetValuesPipelined(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> found, int version)
    {
        const int Ring = 4 * LookupStage;
        byte** ringBucket = stackalloc byte*[Ring];
        byte* ringTop = stackalloc byte[Ring];
        byte* ringChain = stackalloc byte[Ring];
        byte* buckets = _h.Buckets;
        nuint mask = _bucketMask;
        ulong seed = _seed;
        int n = keys.Length;
        int hits = 0;
        fixed (TKey* kp = keys)
        fixed (TValue* vp = values)
        fixed (bool* fp = found)
        {
            for (int j = 0; j < Math.Min(3 * LookupStage, n); j++)
            {
                Stage1(kp + j, j);
                CheckUnchangedSince(version);
            }
            for (int j = 0; j < Math.Min(2 * LookupStage, n); j++)
            {
                Stage2(j);
            }
            for (int j = 0; j < Math.Min(LookupStage, n); j++)
            {
                Stage3(j);
            }
            int i = 0;
            for (; i + 3 * LookupStage < n; i++)
            {
                Stage1(kp + i + 3 * LookupStage, i + 3 * LookupStage);
                CheckUnchangedSince(version); // before anything reads a bucket stage 1 computed
                Stage2(i + 2 * LookupStage);
                Stage3(i + LookupStage);
                int r = i & (Ring - 1);
                hits += Resolve(kp + i, ringBucket[r], ringTop[r], version, vp + i, fp + i);
            }
            for (; i < n; i++)
            {
                if (i + 2 * LookupStage < n)
                {
                    Stage2(i + 2 * LookupStage);
                }
                if (i + LookupStage < n)
                {
                    Stage3(i + LookupStage);
                }
                int r = i & (Ring - 1);
                hits += Resolve(kp + i, ringBucket[r], ringTop[r], version, vp + i, fp + i);
            }
        }
        GC.KeepAlive(this);
        return hits;

        // Hash key j, compute its bucket and tophash, prefetch the tophash line.
        void Stage1(TKey* key, int j)
        {
            ulong hash = THasher.Hash(in *key, seed);
            byte* b = Bucket<TKey, TValue>.At(buckets, (nuint)hash & mask);
            if (Sse.IsSupported)
            {
                Sse.Prefetch0(b);
            }
            ringBucket[j & (Ring - 1)] = b;
            ringTop[j & (Ring - 1)] = TopHash(hash);
        }

        // Read key j's (now cached) tophash bytes and prefetch the matching slot or the overflow pointer.
        void Stage2(int j)
        {
            bool chain = Sse.IsSupported && PrefetchSlotOrOverflow(ringBucket[j & (Ring - 1)], ringTop[j & (Ring - 1)]);
            ringChain[j & (Ring - 1)] = chain ? (byte)1 : (byte)0;
        }

        // A key whose first bucket was full without a match: prefetch the overflow bucket it continues in.
        void Stage3(int j)
        {
            if (ringChain[j & (Ring - 1)] != 0)
            {
                Bucket<TKey, TValue>.PrefetchOverflowOf(ringBucket[j & (Ring - 1)]);
            }
        }
    }

    /// <summary>
    /// Refuses a batch's outputs when one is shorter than <paramref name="keys"/> or when any two of
    /// the three spans overlap (in the part the batch uses): the batches read keys ahead of the
    /// outputs they write for earlier keys, so overlapping outputs would overwrite keys not yet read.
    /// </summary>
    private static void CheckBatchOutputs(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> flags)
    {
        ReadOnlySpan<byte> valueBytes = OutputBytes(keys, values);
        ReadOnlySpan<byte> flagBytes = OutputBytes(keys, flags);
        ReadOnlySpan<byte> keyBytes = MemoryMarshal.AsBytes(keys);
        if (keyBytes.Overlaps(valueBytes) || keyBytes.Overlaps(flagBytes) || valueBytes.Overlaps(flagBytes))
        {
            ThrowHelper.ThrowSpansOverlap();
        }
    }

    /// <summary><see cref="CheckBatchOutputs"/> for a batch with one output span, <paramref name="flags"/>.</summary>
    private static void CheckBatchOutput(ReadOnlySpan<TKey> keys, Span<bool> flags)
    {
        if (MemoryMarshal.AsBytes(keys).Overlaps(OutputBytes(keys, flags)))
        {
            ThrowHelper.ThrowSpansOverlap();
        }
    }

    /// <summary>The bytes of <paramref name="output"/> a batch over <paramref name="keys"/> writes, after checking it is at least as long as the keys.</summary>
    private static ReadOnlySpan<byte> OutputBytes<T>(ReadOnlySpan<TKey> keys, Span<T> output)
        where T : unmanaged
    {
        if (output.Length < keys.Length)
        {
            ThrowHelper.ThrowOutputTooShort();
        }
        return MemoryMarshal.AsBytes((ReadOnlySpan<T>)output[..keys.Length]);
    }

    /// <summary>Looks <paramref name="key"/> up in the chain at <paramref name="b"/> and writes the outcome: 1 if found.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Resolve(TKey* key, byte* b, byte top, int version, TValue* value, bool* found)
    {
        TValue* v = FindInChain(in *key, b, top, version, out _);
        if (v != null)
        {
            *value = *v;
            *found = true;
            return 1;
        }
        *value = default;
        *found = false;
        return 0;
    }

    /// <summary>
    /// The batched lookup for a table that fits in cache with no growth under way: the array, mask
    /// and seed read once, the spans through pointers, no prefetches.
    /// </summary>
    private int TryGetValuesFromCachePlain(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> found, int version)
    {
        byte* buckets = _h.Buckets;
        nuint mask = _bucketMask;
        ulong seed = _seed;
        int n = keys.Length;
        int hits = 0;
        fixed (TKey* kp = keys)
        fixed (TValue* vp = values)
        fixed (bool* fp = found)
        {
            for (int i = 0; i < n; i++)
            {
                ulong hash = HashForRead(in kp[i], seed, version); // checked before the bucket computed from the array read above
                hits += Resolve(kp + i, Bucket<TKey, TValue>.At(buckets, (nuint)hash & mask), TopHash(hash), version, vp + i, fp + i);
            }
        }
        GC.KeepAlive(this);
        return hits;
    }

    /// <summary>The batched lookup for a table that fits in cache: one plain lookup per key.</summary>
    private int TryGetValuesFromCache(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> found, int version)
    {
        int hits = 0;
        ulong seed = _seed;
        for (int i = 0; i < keys.Length; i++)
        {
            ulong hash = HashForRead(in keys[i], seed, version);
            hits += LookupInto(in keys[i], hash, version, prefetched: false, out values[i], out found[i]);
        }
        GC.KeepAlive(this);
        return hits;
    }

    /// <summary>Looks one key up into its output cells: 1 if found, else 0 with default and false.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int LookupInto(in TKey key, ulong hash, int version, bool prefetched, out TValue value, out bool found)
    {
        TValue* v = FindEntry(in key, hash, version, out _, prefetched);
        if (v != null)
        {
            value = *v;
            found = true;
            return 1;
        }
        value = default;
        found = false;
        return 0;
    }

    /// <summary>Stage 1 of the batched lookup: hash, and prefetch the line with the tophash bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong HashAndPrefetchTopHash(in TKey key, int version)
    {
        ulong hash = HashForRead(in key, _seed, version);
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & _bucketMask));
            byte* old = _h.OldBuckets;
            nuint oldbucket = (nuint)hash & OldBucketMask;
            if (old != null && !BelowEvacuationMark(oldbucket))
            {
                // ReadBucket reads this old bucket (below the mark it does not).
                Sse.Prefetch0(Bucket<TKey, TValue>.At(old, oldbucket));
            }
        }
        return hash;
    }

    /// <summary>Stage 2 while growing: the key's bucket in whichever array holds it, then <see cref="PrefetchSlotOrOverflow"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchMatchingSlot(ulong hash)
    {
        if (Sse.IsSupported)
        {
            PrefetchSlotOrOverflow(ReadBucket(hash), TopHash(hash));
        }
    }

    /// <summary>
    /// Stage 2 of both pipelines: reads bucket <paramref name="b"/>'s (by now cached) tophash bytes and
    /// prefetches the first matching slot's key and value lines or, for a full bucket without a
    /// match, the line of its overflow pointer. Returns true in that last case: the lookup may go on
    /// into an overflow bucket. Preconditions: <see cref="Sse.IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PrefetchSlotOrOverflow(byte* b, byte top)
    {
        uint matches = Bucket<TKey, TValue>.MatchTopHash(b, top);
        if (matches != 0)
        {
            nuint i = (nuint)System.Numerics.BitOperations.TrailingZeroCount(matches);
            Sse.Prefetch0(Bucket<TKey, TValue>.KeySlot(b, i));
            Sse.Prefetch0(Bucket<TKey, TValue>.ValueSlot(b, i));
            return false;
        }
        if (!Bucket<TKey, TValue>.HasEmptyRest(b))
        {
            Sse.Prefetch0(b + Bucket<TKey, TValue>.OverflowOffset);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Sets many entries at once (insert or overwrite, like the indexer), taking the writer flag once
    /// for the whole batch and prefetching each key's bucket ahead of its insert (during a growth, also
    /// the old bucket the insert will evacuate and its two destinations).
    /// </summary>
    /// <param name="keys">Keys to set.</param>
    /// <param name="values">Their values, in the same order; at least as long as <paramref name="keys"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is shorter than <paramref name="keys"/>.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">An insert could not allocate native memory: the entries before it are set, it and the rest are not (remarks).</exception>
    /// <remarks>The batch stops at the first failure, with the entries before that point set and the rest not: an insert that runs out of memory, or a hasher that throws (keys are hashed up to 24 keys before their insert, so the entries set end up to 24 keys before the throwing one).</remarks>
    public void SetValues(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        if (values.Length < keys.Length)
        {
            ThrowHelper.ThrowOutputTooShort();
        }
        AcquireWriter();
        try
        {
            // Each key is hashed once, WriteStage keys ahead of its insert, and its bucket
            // prefetched then. The seed cannot change during the batch: only Clear and a delete
            // that empties the map reseed, and the batch holds the writer flag.
            Span<ulong> hashes = stackalloc ulong[WriteRing];
            HashAhead(keys, hashes);
            for (int i = 0; i < keys.Length; i++)
            {
                ulong hash = NextHash(keys, hashes, i);
                // The flags as they are now (growth starts and ends within the batch); the seed is the map's.
                *Assign(in keys[i], hash, _h.Flags, out _) = values[i];
            }
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// Removes many keys at once, taking the writer flag once for the whole batch and prefetching
    /// each key's bucket 24 keys ahead of its removal (during a growth, also
    /// the old bucket the removal will evacuate and its two destinations). Keys that are absent, or
    /// repeated in <paramref name="keys"/>, are skipped.
    /// </summary>
    /// <param name="keys">Keys to remove.</param>
    /// <returns>How many entries were removed.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for the growth work every write does (a doubling's evacuation may chain an overflow bucket) could not be allocated: the keys before the failing one are removed, it and the rest are not (remarks).</exception>
    /// <remarks>The batch stops at the first failure, with the keys before that point removed and the rest not: a removal whose growth work runs out of memory, or a hasher that throws (keys are hashed up to 24 keys before their removal, so the removals end up to 24 keys before the throwing one).</remarks>
    public int RemoveKeys(ReadOnlySpan<TKey> keys) => RemoveKeys(keys, default, default, report: false, readValues: false);

    /// <summary>
    /// Removes many keys at once, like <see cref="RemoveKeys(ReadOnlySpan{TKey})"/>, and reports for
    /// each key whether this batch removed it (false for an absent key and for a repeat of a key
    /// removed earlier in the batch).
    /// </summary>
    /// <param name="keys">Keys to remove.</param>
    /// <param name="removed">Receives whether each key was removed; at least as long as <paramref name="keys"/>.</param>
    /// <returns>How many entries were removed.</returns>
    /// <exception cref="ArgumentException"><paramref name="removed"/> is shorter than <paramref name="keys"/>, or the spans overlap.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for the growth work every write does could not be allocated: the keys before the failing one are removed (and reported), it and the rest are not (their cells of <paramref name="removed"/> are left as they were).</exception>
    /// <remarks>The batch stops at the first failure, as <see cref="RemoveKeys(ReadOnlySpan{TKey})"/> describes.</remarks>
    public int RemoveKeys(ReadOnlySpan<TKey> keys, Span<bool> removed)
    {
        CheckBatchOutput(keys, removed);
        return RemoveKeys(keys, default, removed, report: true, readValues: false);
    }

    /// <summary>
    /// Removes many keys at once, like <see cref="RemoveKeys(ReadOnlySpan{TKey})"/>, and returns each
    /// removed entry's value (the batched <see cref="Remove(TKey, out TValue)"/>): for each key,
    /// whether this batch removed it and, if so, its value (default otherwise).
    /// </summary>
    /// <param name="keys">Keys to remove.</param>
    /// <param name="values">Receives each removed key's value, or default; at least as long as <paramref name="keys"/>.</param>
    /// <param name="removed">Receives whether each key was removed (false for an absent key and for a repeat of a key removed earlier in the batch); at least as long as <paramref name="keys"/>.</param>
    /// <returns>How many entries were removed.</returns>
    /// <exception cref="ArgumentException">An output span is shorter than <paramref name="keys"/>, or the spans overlap.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for the growth work every write does could not be allocated: the keys before the failing one are removed (and reported, with their values), it and the rest are not (their output cells are left as they were).</exception>
    /// <remarks>The batch stops at the first failure, as <see cref="RemoveKeys(ReadOnlySpan{TKey})"/> describes.</remarks>
    public int RemoveKeys(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> removed)
    {
        CheckBatchOutputs(keys, values, removed);
        return RemoveKeys(keys, values, removed, report: true, readValues: true);
    }

    /// <summary>
    /// The batched removal; writes <paramref name="removed"/> only when <paramref name="report"/> and
    /// <paramref name="values"/> only when <paramref name="readValues"/> (constants where inlined: a
    /// removal that discards the value does not wait for its line).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int RemoveKeys(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> removed, bool report, bool readValues)
    {
        AcquireWriter();
        try
        {
            // As in SetValues, each key is hashed once, WriteStage keys ahead. The seed changes
            // only when a removal empties the map (Reseed); every removal after it finds the map
            // empty before it looks at the (then stale) hash.
            int count = 0;
            Span<ulong> hashes = stackalloc ulong[WriteRing];
            HashAhead(keys, hashes);
            for (int i = 0; i < keys.Length; i++)
            {
                ulong hash = NextHash(keys, hashes, i);
                bool r = DeleteSlot(in keys[i], hash, readValues, out TValue value);
                count += r ? 1 : 0;
                if (readValues)
                {
                    values[i] = value;
                }
                if (report)
                {
                    removed[i] = r;
                }
            }
            return count;
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// The batched writes' look-ahead, first part: hashes the first <see cref="WriteStage"/> keys
    /// into <paramref name="hashes"/> (a ring of <see cref="WriteRing"/>) and prefetches their buckets.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void HashAhead(ReadOnlySpan<TKey> keys, Span<ulong> hashes)
    {
        for (int j = 0; j < Math.Min(WriteStage, keys.Length); j++)
        {
            hashes[j] = HashAndPrefetchBucket(in keys[j]);
        }
    }

    /// <summary>
    /// The batched writes' look-ahead, per key: returns key <paramref name="i"/>'s hash (computed
    /// <see cref="WriteStage"/> keys ago) and hashes key <c>i + WriteStage</c> in its place,
    /// prefetching that key's bucket.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong NextHash(ReadOnlySpan<TKey> keys, Span<ulong> hashes, int i)
    {
        ulong hash = hashes[i & (WriteRing - 1)];
        if (i + WriteStage < keys.Length)
        {
            hashes[(i + WriteStage) & (WriteRing - 1)] = HashAndPrefetchBucket(in keys[i + WriteStage]);
        }
        return hash;
    }

    /// <summary>Hashes a key under the current seed and prefetches its whole bucket, and during a growth the evacuation its insert will do.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong HashAndPrefetchBucket(in TKey key)
    {
        ulong hash = THasher.Hash(in key, _seed);
        if (Sse.IsSupported && _h.OldBuckets != null)
        {
            // Growing: the insert first evacuates the key's old bucket into X and Y. That prefetches
            // the old bucket and the first line of X and Y, one of which is the key's own bucket:
            // only the rest of that bucket is left to prefetch.
            PrefetchEvacuation((nuint)hash & OldBucketMask);
            Bucket<TKey, TValue>.PrefetchRest(Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & _bucketMask));
        }
        else
        {
            PrefetchBucket(hash);
        }
        return hash;
    }
}
