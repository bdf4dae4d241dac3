using System.Runtime.CompilerServices;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

public sealed class BatchAndMarshalTests : LeakCheckedTest
{
    [TestCase(0, false)]
    [TestCase(5, false)]
    [TestCase(100_000, false)]
    [TestCase(0, true)]
    [TestCase(5, true)]
    [TestCase(100_000, true)]
    public void TryGetValues_AgreesWithSingleLookups_IncludingDuringGrowth(int n, bool pipelined)
    {
        int seed = TestSeed.Next(nameof(TryGetValues_AgreesWithSingleLookups_IncludingDuringGrowth));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        // Small tables are looked up key by key; force the prefetching pipeline when asked.
        map._pipelinedLookupMinBytes = pipelined ? 0 : ulong.MaxValue;
        for (long i = 0; i < n; i++)
        {
            map[i * 3] = i;
        }
        long[] keys = Enumerable.Range(0, 3000).Select(_ => rng.NextInt64(3L * Math.Max(n, 1))).ToArray();
        AssertBatchAgreesWithSingleLookups(map, keys, $"n {n}");
    }

    /// <summary>Every batch length from 0 to past twice the pipeline's lookahead (48 keys): the prologue, the steady state and the tail all agree with single lookups.</summary>
    [Test]
    public void TryGetValues_Pipelined_EveryShortLength_AgreesWithSingleLookups()
    {
        int seed = TestSeed.Next(nameof(TryGetValues_Pipelined_EveryShortLength_AgreesWithSingleLookups));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        map._pipelinedLookupMinBytes = 0;
        for (long i = 0; i < 2000; i++)
        {
            map[i * 2] = i;
        }
        for (int length = 0; length <= 130; length++)
        {
            long[] keys = Enumerable.Range(0, length).Select(_ => rng.NextInt64(4000)).ToArray();
            AssertBatchAgreesWithSingleLookups(map, keys, $"length {length}");
        }
    }

    /// <summary>
    /// Overflow chains through the pipeline: with 16 distinct hashes every bucket in use chains
    /// several overflow buckets, so the stage that prefetches a full bucket's overflow bucket runs on
    /// most keys; deletes leave emptyOne holes mid-chain, which must not end a lookup early.
    /// </summary>
    [Test]
    public void TryGetValues_Pipelined_OverflowChainsWithHoles_AgreeWithSingleLookups()
    {
        int seed = TestSeed.Next(nameof(TryGetValues_Pipelined_OverflowChainsWithHoles_AgreeWithSingleLookups));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long, CollidingHasher>();
        map._pipelinedLookupMinBytes = 0;
        for (long i = 0; i < 600; i++)
        {
            map[i] = ~i;
        }
        for (int d = 0; d < 200; d++)
        {
            map.Remove(rng.NextInt64(600));
        }
        Assert.That(map.GetStats().OverflowBucketCount, Is.GreaterThan(0));
        Assert.That(map.GetStats().IsGrowing, Is.False, "the no-growth pipeline is the one under test");
        long[] keys = Enumerable.Range(0, 500).Select(_ => rng.NextInt64(900)).ToArray();
        AssertBatchAgreesWithSingleLookups(map, keys, "colliding");
    }

    /// <summary>
    /// Runs <c>TryGetValues</c> over <paramref name="keys"/> into outputs one cell longer than the keys
    /// and checks every cell and the hit count against <c>TryGetValue</c>, and that the extra cell
    /// was not written.
    /// </summary>
    private static void AssertBatchAgreesWithSingleLookups<THasher>(NativeMap<long, long, THasher> map, long[] keys, string context)
        where THasher : struct, IKeyHasher<long>
    {
        var values = new long[keys.Length + 1];
        var found = new bool[keys.Length + 1];
        values[^1] = -7;
        int hits = map.TryGetValues(keys, values, found);
        int expectedHits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            bool f = map.TryGetValue(keys[i], out long v);
            Assert.That(found[i], Is.EqualTo(f), $"{context}, key {keys[i]}");
            Assert.That(values[i], Is.EqualTo(v), $"{context}, key {keys[i]}");
            expectedHits += f ? 1 : 0;
        }
        Assert.That(hits, Is.EqualTo(expectedHits), $"{context}: hit count");
        Assert.That(values[^1], Is.EqualTo(-7), $"{context}: wrote past the keys");
        Assert.That(found[^1], Is.False, $"{context}: wrote past the keys");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TryGetValues_MidGrowth_FindsEntriesInBothArrays(bool pipelined)
    {
        using var map = new NativeMap<long, long>(52_000);
        map._pipelinedLookupMinBytes = pipelined ? 0 : ulong.MaxValue;
        long n = NativeMap<long, long>.CapacityFor((byte)map.GetStats().B) + 1;
        for (long i = 0; i < n; i++)
        {
            map[i] = ~i;
        }
        Assert.That(map.GetStats().IsGrowing, Is.True);
        long[] keys = Enumerable.Range(0, (int)n + 10).Select(i => (long)i).ToArray();
        var values = new long[keys.Length];
        var found = new bool[keys.Length];
        Assert.That(map.TryGetValues(keys, values, found), Is.EqualTo(n));
        for (int i = 0; i < n; i++)
        {
            Assert.That(values[i], Is.EqualTo(~(long)i));
        }
        Assert.That(found.Skip((int)n), Is.All.False);
    }

    [Test]
    public void TryGetValues_ShortOutputs_Throw()
    {
        using var map = new NativeMap<long, long>();
        Assert.Throws<ArgumentException>(() => map.TryGetValues(new long[3], new long[2], new bool[3]));
        Assert.Throws<ArgumentException>(() => map.TryGetValues(new long[3], new long[3], new bool[2]));
        Assert.Throws<ArgumentException>(() => map.SetValues(new long[3], new long[2]));
    }

    /// <summary>
    /// The pipeline reads keys up to 48 ahead of the outputs it writes, so outputs laid over the keys
    /// (or over each other) would overwrite keys before they are compared: refused, before anything
    /// is read or written. Spans that only touch, and outputs longer than the keys whose unused tail
    /// overlaps, are fine.
    /// </summary>
    [Test]
    public void TryGetValues_OverlappingSpans_Throw_AdjacentOnesWork()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 1_000; i++)
        {
            map[i] = ~i;
        }
        long[] buffer = new long[2_001];
        for (int i = 0; i < 1_000; i++)
        {
            buffer[i] = i;
        }
        var found = new bool[1_000];
        Assert.Throws<ArgumentException>(() => map.TryGetValues(buffer.AsSpan(0, 1_000), buffer.AsSpan(0, 1_000), found), "values over the keys");
        Assert.Throws<ArgumentException>(() => map.TryGetValues(buffer.AsSpan(0, 1_000), buffer.AsSpan(1, 1_000), found), "values one key later");
        Assert.Throws<ArgumentException>(() => map.TryGetValues(buffer.AsSpan(1, 1_000), buffer.AsSpan(0, 1_000), found), "values one key earlier");
        Assert.Throws<ArgumentException>(
            () => map.TryGetValues(buffer.AsSpan(0, 1_000), buffer.AsSpan(1_000, 1_000), System.Runtime.InteropServices.MemoryMarshal.Cast<long, bool>(buffer.AsSpan(1_500, 200))),
            "found over the values");
        Assert.Throws<ArgumentException>(
            () => map.TryGetValues(buffer.AsSpan(0, 1_000), buffer.AsSpan(1_000, 1_000), System.Runtime.InteropServices.MemoryMarshal.Cast<long, bool>(buffer.AsSpan(900, 200))),
            "found over the keys");
        for (int i = 0; i < 1_000; i++)
        {
            Assert.That(buffer[i], Is.EqualTo(i), "a refused call wrote over a key");
        }
        // Adjacent: keys in [0, 1000), values in [1000, 2000), found elsewhere.
        Assert.That(map.TryGetValues(buffer.AsSpan(0, 1_000), buffer.AsSpan(1_000, 1_000), found), Is.EqualTo(1_000));
        for (int i = 0; i < 1_000; i++)
        {
            Assert.That(buffer[1_000 + i], Is.EqualTo(~(long)i));
        }
        // Outputs longer than the keys: only the part written is checked (keys [0, 10), values from 10 on).
        Assert.That(map.TryGetValues(buffer.AsSpan(0, 10), buffer.AsSpan(10), found), Is.EqualTo(10));
    }

    [Test]
    public void SetValues_InsertsAndOverwrites_LikeTheIndexer()
    {
        using var map = new NativeMap<long, long>();
        long[] keys = Enumerable.Range(0, 50_000).Select(i => (long)i * 7).ToArray();
        map.SetValues(keys, keys.Select(k => -k).ToArray());
        map.SetValues(keys.AsSpan(0, 10), new long[10]);
        Assert.That(map.Count, Is.EqualTo(50_000));
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.That(map[keys[i]], Is.EqualTo(i < 10 ? 0 : -keys[i]));
        }
        map.CheckInvariants();
    }

    /// <summary>
    /// RemoveKeys against a Dictionary doing the same removals one by one: present, absent and
    /// repeated keys, in maps that are empty, small, large, and halfway through a doubling (whose
    /// removals do the evacuation work every write does). Both overloads.
    /// </summary>
    [TestCase(0, 0)]
    [TestCase(5, 1)]
    [TestCase(5, 2)]
    [TestCase(100_000, 0)]
    [TestCase(100_000, 1)]
    [TestCase(100_000, 2)]
    [TestCase(-1, 0)]
    [TestCase(-1, 1)]
    [TestCase(-1, 2)]
    public void RemoveKeys_AgreesWithADictionary_IncludingDuringGrowth(int n, int overload)
    {
        bool report = overload >= 1;
        bool withValues = overload == 2;
        int seed = TestSeed.Next(nameof(RemoveKeys_AgreesWithADictionary_IncludingDuringGrowth));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        var model = new Dictionary<long, long>();
        if (n < 0)
        {
            // Just past the start of a doubling: most old buckets are still to be evacuated.
            for (long i = 0; !map.GetStats().IsGrowing; i++)
            {
                map[i * 3] = i;
                model[i * 3] = i;
            }
            n = model.Count;
        }
        for (long i = 0; i < n; i++)
        {
            map[i * 3] = i;
            model[i * 3] = i;
        }
        bool wasGrowing = map.GetStats().IsGrowing;
        for (int round = 0; round < 6; round++)
        {
            long[] keys = [.. Enumerable.Range(0, rng.Next(1, 5_000)).Select(_ => rng.NextInt64(3L * Math.Max(n, 1) + 10))];
            var removed = new bool[keys.Length + 1];
            removed[^1] = true;
            var values = new long[keys.Length + 1];
            values[^1] = -7;
            int count = withValues ? map.RemoveKeys(keys, values, removed) : report ? map.RemoveKeys(keys, removed) : map.RemoveKeys(keys);
            int want = 0;
            for (int i = 0; i < keys.Length; i++)
            {
                bool present = model.Remove(keys[i], out long old);
                want += present ? 1 : 0;
                if (report)
                {
                    Assert.That(removed[i], Is.EqualTo(present), $"seed {seed}, round {round}, key {keys[i]} at {i}");
                }
                if (withValues)
                {
                    Assert.That(values[i], Is.EqualTo(present ? old : 0), $"seed {seed}, round {round}, value of key {keys[i]} at {i}");
                }
            }
            Assert.That(values[^1], Is.EqualTo(-7), "wrote a value past the keys");
            Assert.That(count, Is.EqualTo(want), $"seed {seed}, round {round}: count");
            Assert.That(removed[^1], Is.True, "wrote past the keys");
            Assert.That(map.Count, Is.EqualTo(model.Count));
            map.CheckInvariants();
        }
        if (wasGrowing)
        {
            Assert.That(map.GetStats().EvacuatedBuckets, Is.GreaterThan(0), "the removals did growth work");
        }
        foreach (KeyValuePair<long, long> kv in model)
        {
            Assert.That(map.TryGetValue(kv.Key, out long v) && v == kv.Value, Is.True, $"seed {seed}: survivor {kv.Key}");
        }
        Assert.That(map.Count(), Is.EqualTo(model.Count), "enumeration");
    }

    /// <summary>Every batch length from 0 to past twice the lookahead: the prologue, the steady state and the tail.</summary>
    [Test]
    public void RemoveKeys_EveryShortLength_RemovesExactlyThoseKeys()
    {
        using var map = new NativeMap<long, long>();
        for (int length = 0; length <= 80; length++)
        {
            for (long i = 0; i < 100; i++)
            {
                map[i] = i;
            }
            long[] keys = [.. Enumerable.Range(0, length).Select(i => (long)(i * 2))];
            var removed = new bool[length];
            Assert.That(map.RemoveKeys(keys, removed), Is.EqualTo(Math.Min(length, 50)), $"length {length}");
            for (int i = 0; i < length; i++)
            {
                Assert.That(removed[i], Is.EqualTo(i < 50), $"length {length}, key {keys[i]}");
            }
            for (long k = 0; k < 100; k++)
            {
                Assert.That(map.ContainsKey(k), Is.EqualTo(k % 2 == 1 || k >= 2 * length), $"length {length}, key {k}");
            }
            map.CheckInvariants();
        }
    }

    /// <summary>
    /// A removal that empties the map reseeds it, which makes the hashes computed ahead for the rest
    /// of the batch stale: they must find nothing (the map is empty) rather than a wrong bucket, and
    /// the map must work under its new seed afterwards.
    /// </summary>
    [Test]
    public void RemoveKeys_EmptyingTheMapMidBatch_TheRestFindNothing_MapReusable()
    {
        using var map = new NativeMap<long, long>();
        long[] present = [.. Enumerable.Range(0, 1_000).Select(i => (long)i * 11)];
        foreach (long k in present)
        {
            map[k] = k;
        }
        ulong hashBefore = map.HashOf(present[0]);
        long[] batch = [.. present, .. present, .. present.Select(k => k + 1)];
        var removed = new bool[batch.Length];
        Assert.That(map.RemoveKeys(batch, removed), Is.EqualTo(present.Length));
        Assert.That(removed.Take(present.Length), Is.All.True);
        Assert.That(removed.Skip(present.Length), Is.All.False);
        Assert.That(map.Count, Is.Zero);
        Assert.That(map.HashOf(present[0]), Is.Not.EqualTo(hashBefore), "emptying the map reseeds it");
        foreach (long k in present)
        {
            map[k] = -k;
        }
        Assert.That(map.RemoveKeys(present.AsSpan(0, 500)), Is.EqualTo(500));
        for (int i = 0; i < present.Length; i++)
        {
            Assert.That(map.TryGetValue(present[i], out long v), Is.EqualTo(i >= 500));
            Assert.That(v, Is.EqualTo(i >= 500 ? -present[i] : 0));
        }
        map.CheckInvariants();
    }

    /// <summary>Long overflow chains (16 distinct hashes): removals leave holes mid-chain and empty whole overflow buckets.</summary>
    [Test]
    public void RemoveKeys_OverflowChains_KeepTheChainInvariants()
    {
        int seed = TestSeed.Next(nameof(RemoveKeys_OverflowChains_KeepTheChainInvariants));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long, CollidingHasher>();
        var model = new Dictionary<long, long>();
        for (int round = 0; round < 20; round++)
        {
            for (int j = 0; j < 100; j++)
            {
                long k = rng.NextInt64(1_500);
                map[k] = ~k;
                model[k] = ~k;
            }
            long[] keys = [.. Enumerable.Range(0, 80).Select(_ => rng.NextInt64(1_500))];
            int want = keys.Count(model.Remove);
            Assert.That(map.RemoveKeys(keys), Is.EqualTo(want), $"seed {seed}, round {round}");
            map.CheckInvariants();
            Assert.That(map.Count, Is.EqualTo(model.Count));
        }
        Assert.That(map.GetStats().OverflowBucketCount, Is.GreaterThan(0), "the chains were exercised");
        foreach (KeyValuePair<long, long> kv in model)
        {
            Assert.That(map[kv.Key], Is.EqualTo(kv.Value));
        }
    }

    /// <summary>Indirect keys and values (above 128 bytes): a batched removal frees both blocks of each entry it removes (the fixture checks native bytes).</summary>
    [Test]
    public void RemoveKeys_IndirectKeysAndValues_FreeTheirBlocks()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<Big200, Big320>(0, alloc, 9u))
        {
            for (int i = 0; i < 300; i++)
            {
                map[new Big200(i)] = new Big320(i);
            }
            int blocks = alloc.LiveBlocks;
            Big200[] keys = [.. Enumerable.Range(0, 200).Select(i => new Big200(i * 2))];
            Assert.That(map.RemoveKeys(keys.AsSpan(0, 100)), Is.EqualTo(100));
            // The values overload reads each indirect value before its block is freed (the
            // tracking allocator poisons freed blocks).
            var values = new Big320[100];
            var removed = new bool[100];
            Assert.That(map.RemoveKeys(keys.AsSpan(100), values, removed), Is.EqualTo(50));
            for (int j = 0; j < 100; j++)
            {
                int id = (100 + j) * 2;
                Assert.That(removed[j], Is.EqualTo(id < 300), $"key {id}");
                Assert.That(values[j], Is.EqualTo(id < 300 ? new Big320(id) : default), $"value of key {id}");
            }
            Assert.That(alloc.LiveBlocks, Is.EqualTo(blocks - 300), "each removed entry frees its key and value blocks");
            for (int i = 0; i < 300; i++)
            {
                Assert.That(map.ContainsKey(new Big200(i)), Is.EqualTo(i % 2 == 1), $"key {i}");
            }
            map.CheckInvariants();
        }
        alloc.AssertClean();
    }

    [Test]
    public void RemoveKeys_BadArguments_Throw_MapUnchanged()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 100; i++)
        {
            map[i] = i;
        }
        Assert.Throws<ArgumentException>(() => map.RemoveKeys(new long[3], new bool[2]), "removed shorter than the keys");
        Assert.Throws<ArgumentException>(() => map.RemoveKeys(new long[3], new long[2], new bool[3]), "values shorter than the keys");
        Assert.Throws<ArgumentException>(() => map.RemoveKeys(new long[3], new long[3], new bool[2]), "removed shorter than the keys, with values");
        long[] buffer = [.. Enumerable.Range(0, 50).Select(i => (long)i)];
        Assert.Throws<ArgumentException>(
            () => map.RemoveKeys(buffer.AsSpan(0, 40), System.Runtime.InteropServices.MemoryMarshal.Cast<long, bool>(buffer.AsSpan(30, 10))),
            "removed laid over the keys");
        Assert.Throws<ArgumentException>(
            () => map.RemoveKeys(buffer.AsSpan(0, 20), buffer.AsSpan(10, 20), new bool[20]),
            "values laid over the keys");
        Assert.Throws<ArgumentException>(
            () => map.RemoveKeys(buffer.AsSpan(0, 10), buffer.AsSpan(20, 10), System.Runtime.InteropServices.MemoryMarshal.Cast<long, bool>(buffer.AsSpan(25, 2))),
            "removed laid over the values");
        Assert.That(map.Count, Is.EqualTo(100), "a refused call removed something");
        Assert.That(map.RemoveKeys(buffer.AsSpan(0, 40), System.Runtime.InteropServices.MemoryMarshal.Cast<long, bool>(buffer.AsSpan(40, 10))), Is.EqualTo(40), "adjacent spans are fine");
        Assert.That(map.RemoveKeys([]), Is.Zero);
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.RemoveKeys(buffer));
        Assert.Throws<ObjectDisposedException>(() => map.RemoveKeys([]));
    }

    /// <summary>Every batch length from 0 to past twice the lookahead, into an empty map and over present keys: the prologue, the steady state and the tail each set their keys.</summary>
    [Test]
    public void SetValues_EveryShortLength_SetsExactlyThoseKeys()
    {
        using var map = new NativeMap<long, long>();
        for (int length = 0; length <= 80; length++)
        {
            map.Clear();
            long[] keys = [.. Enumerable.Range(0, length).Select(i => (long)(i * 2))];
            map.SetValues(keys, [.. keys.Select(k => k + 1)]);
            map.SetValues(keys.AsSpan(0, length / 2), [.. keys.Take(length / 2).Select(k => -k)]);
            Assert.That(map.Count, Is.EqualTo(length), $"length {length}");
            for (int i = 0; i < length; i++)
            {
                Assert.That(map[keys[i]], Is.EqualTo(i < length / 2 ? -keys[i] : keys[i] + 1), $"length {length}, key {keys[i]}");
            }
            map.CheckInvariants();
        }
    }

    [Test]
    public void Marshal_GetValueRefOrAddDefault_CountsWithOneLookup()
    {
        using var counts = new NativeMap<int, long>();
        for (int i = 0; i < 10_000; i++)
        {
            NativeMapMarshal.GetValueRefOrAddDefault(counts, i % 100, out _)++;
        }
        Assert.That(counts.Count, Is.EqualTo(100));
        Assert.That(counts.Values, Is.All.EqualTo(100));
        ref long slot = ref NativeMapMarshal.GetValueRefOrAddDefault(counts, 5000, out bool exists);
        Assert.That(exists, Is.False);
        Assert.That(slot, Is.Zero, "a new slot holds default");
        NativeMapMarshal.GetValueRefOrAddDefault(counts, 5000, out exists);
        Assert.That(exists, Is.True);
        counts.CheckInvariants();
    }

    [Test]
    public void Marshal_GetValueRefOrNullRef_WritesThroughAndSignalsAbsence()
    {
        using var map = new NativeMap<long, long>();
        map[1] = 10;
        ref long v = ref NativeMapMarshal.GetValueRefOrNullRef(map, 1);
        v = 11;
        Assert.That(map[1], Is.EqualTo(11));
        Assert.That(Unsafe.IsNullRef(ref NativeMapMarshal.GetValueRefOrNullRef(map, 2)), Is.True);
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => NativeMapMarshal.GetValueRefOrNullRef(map, 1));
    }

    [Test]
    public void Marshal_NewSlotAfterADelete_HoldsDefaultNotTheOldValue()
    {
        using var map = new NativeMap<long, long>();
        map[1] = 99;
        map.Remove(1);
        Assert.That(NativeMapMarshal.GetValueRefOrAddDefault(map, 1, out _), Is.Zero);
        using var big = new NativeMap<long, Big320>();
        big[1] = new Big320(5);
        big.Remove(1);
        Assert.That(NativeMapMarshal.GetValueRefOrAddDefault(big, 1, out _), Is.EqualTo(default(Big320)));
    }
}
