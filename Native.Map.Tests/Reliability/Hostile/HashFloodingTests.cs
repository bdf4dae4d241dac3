using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Hostile;

/// <summary>
/// Hash flooding: crafted collisions hurt under a fixed seed and cost nothing special under per-map
/// random seeds; low-entropy key families keep chains short; copying a map in iteration order is not
/// quadratic; seeds differ between maps. Timings are same-run medians compared with generous factors.
/// </summary>
[TestFixture]
[Category("Stress")]
public sealed class HashFloodingTests : LeakCheckedTest
{
    private const int N = 1024; // capacity hint 1024 gives B = 8

    /// <summary>Scans for <paramref name="count"/> long keys that share bucket (low 8 bits) and tophash under <paramref name="hash0"/>.</summary>
    private static long[] CraftCollisions(uint hash0, int count, long start, out ulong bucket, out byte top)
    {
        ulong seed = Placement.SeedOf(hash0);
        ulong h = DefaultKeyHasher<long>.Hash(start, seed);
        bucket = Placement.BucketOf(h, 8);
        top = Placement.TopHashOf(h);
        var keys = new List<long>(count) { start };
        for (long k = start + 1; keys.Count < count; k++)
        {
            h = DefaultKeyHasher<long>.Hash(k, seed);
            if (Placement.BucketOf(h, 8) == bucket && Placement.TopHashOf(h) == top)
            {
                keys.Add(k);
            }
        }
        return [.. keys];
    }

    private static void InsertAndLookUp(NativeMap<long, long> map, long[] keys)
    {
        foreach (long k in keys)
        {
            map[k] = k;
        }
        foreach (long k in keys)
        {
            if (map[k] != k)
            {
                throw new InvalidOperationException($"lost {k}");
            }
        }
    }

    [Test]
    public void CraftedCollisions_HurtUnderFixedSeed_CheapUnderRandomSeeds()
    {
        int testSeed = TestSeed.Next(nameof(CraftedCollisions_HurtUnderFixedSeed_CheapUnderRandomSeeds));
        var rng = new Random(testSeed);
        uint hash0 = (uint)rng.Next();
        long[] crafted = CraftCollisions(hash0, N, rng.NextInt64(1L << 40), out ulong bucket, out byte top);
        long[] random = [.. Enumerable.Range(0, N).Select(_ => rng.NextInt64())];

        // Under the fixed seed the crafted keys all land in one chain with one tophash.
        using (var probe = new NativeMap<long, long>(N, null, hash0))
        {
            Assert.That(probe.GetStats().B, Is.EqualTo(8));
            InsertAndLookUp(probe, crafted);
            Assert.That(probe.GetStats().B, Is.EqualTo(8), "the map grew: the offline bucket computation no longer applies");
            List<byte[]> chain = probe.GetChainTopHashes((long)bucket);
            Assert.That(chain, Has.Count.GreaterThanOrEqualTo(N / 8), "the crafted keys do not share a chain");
            Assert.That(chain.SelectMany(b => b).Count(t => t == top), Is.EqualTo(N), "the crafted keys do not share a tophash");
            TestContext.Out.WriteLine($"fixed seed: chain of {chain.Count} buckets, {probe.GetStats().OverflowBucketCount} overflow buckets");
        }

        double fixedCrafted = Timing.MedianNsPerOp(() =>
        {
            using var m = new NativeMap<long, long>(N, null, hash0);
            InsertAndLookUp(m, crafted);
        }, 2 * N);
        double fixedRandom = Timing.MedianNsPerOp(() =>
        {
            using var m = new NativeMap<long, long>(N, null, hash0);
            InsertAndLookUp(m, random);
        }, 2 * N);
        double seededCrafted = Timing.MedianNsPerOp(() =>
        {
            using var m = new NativeMap<long, long>(N);
            InsertAndLookUp(m, crafted);
        }, 2 * N);
        double seededRandom = Timing.MedianNsPerOp(() =>
        {
            using var m = new NativeMap<long, long>(N);
            InsertAndLookUp(m, random);
        }, 2 * N);
        TestContext.Out.WriteLine($"fixed seed: crafted {fixedCrafted:F1} ns/op, random {fixedRandom:F1} ns/op ({fixedCrafted / fixedRandom:F1}x)");
        TestContext.Out.WriteLine($"random seeds: crafted {seededCrafted:F1} ns/op, random {seededRandom:F1} ns/op ({seededCrafted / seededRandom:F2}x)");
        Assert.That(fixedCrafted / fixedRandom, Is.GreaterThan(5), "crafted collisions should hurt under a fixed seed (else the test proves nothing)");
        Assert.That(seededCrafted / seededRandom, Is.LessThanOrEqualTo(3), "with per-map random seeds the crafted keys must cost about what random keys cost");

        using var seeded = new NativeMap<long, long>(N);
        InsertAndLookUp(seeded, crafted);
        Assert.That(MaxChainBuckets(seeded), Is.LessThanOrEqualTo(4), "crafted keys still collide under a random seed");
    }

    private static int MaxChainBuckets<TKey, TValue>(NativeMap<TKey, TValue> map)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
    {
        int max = 0;
        for (long j = 0; j < map.GetStats().BucketCount; j++)
        {
            max = Math.Max(max, map.GetChainTopHashes(j).Count);
        }
        return max;
    }

    private static IEnumerable<TestCaseData> LongFamilies()
    {
        const int Size = 20_000;
        for (int k = 0; k < 64; k++)
        {
            int shift = k;
            yield return new TestCaseData((Func<long[]>)(() => [.. Enumerable.Range(0, Size).Select(i => (long)((ulong)i << shift)).Distinct()])).SetArgDisplayNames($"i<<{k}");
        }
        yield return new TestCaseData((Func<long[]>)(() =>
            [.. Enumerable.Range(1, Size / 64).SelectMany(b => Enumerable.Range(0, 64).Select(r => (long)ulong.RotateLeft((ulong)b, r))).Distinct()])).SetArgDisplayNames("rotations");
        yield return new TestCaseData((Func<long[]>)(() => [.. Enumerable.Range(0, Size).Select(i => i * 1024L)])).SetArgDisplayNames("multiples of 1024");
        yield return new TestCaseData((Func<long[]>)(() => [.. Enumerable.Range(0, Size).Select(i => -(i * 1024L))])).SetArgDisplayNames("negative multiples of 1024");
        yield return new TestCaseData((Func<long[]>)(() => [.. Enumerable.Range(0, Size).Select(i => (long)i << 32 | 1)])).SetArgDisplayNames("high halves");
    }

    [TestCaseSource(nameof(LongFamilies))]
    public void LowEntropyLongFamily_ChainsStayShort(Func<long[]> family) => AssertShortChains(family(), k => k);

    [Test]
    public void DoublesInPlusMinus1024_ChainsStayShort() =>
        AssertShortChains([.. Enumerable.Range(-16384, 32769).Select(i => i / 16.0)], d => d);

    [Test]
    public void OneFieldStructs_ChainsStayShort()
    {
        AssertShortChains([.. Enumerable.Range(0, 20_000)], i => new OneInt(i));
        AssertShortChains([.. Enumerable.Range(0, 20_000)], i => new OneLong((long)i << 20));
        AssertShortChains([.. Enumerable.Range(-10_000, 20_000)], i => new OneDouble(i / 8.0));
        AssertShortChains([.. Enumerable.Range(0, 20_000)], i => new IdentityHash(i * 4096));
    }

    private static void AssertShortChains<TSource, TKey>(TSource[] source, Func<TSource, TKey> key)
        where TKey : unmanaged, IEquatable<TKey>
    {
        using var map = new NativeMap<TKey, long>(source.Length);
        foreach (TSource s in source)
        {
            map[key(s)] = 1;
        }
        Assert.That(map.Count, Is.EqualTo(source.Length), "distinct keys collapsed");
        NativeMapStats st = map.GetStats();
        int maxChain = MaxChainBuckets(map);
        double overflowRatio = (double)st.OverflowBucketCount / st.BucketCount;
        TestContext.Out.WriteLine($"{typeof(TKey).Name}: {map.Count} keys, B {st.B}, load {st.LoadFactor:F2}, overflow buckets {st.OverflowBucketCount} ({overflowRatio:P1}), longest chain {maxChain} buckets");
        Assert.That(maxChain, Is.LessThanOrEqualTo(4), "a chain of more than 4 buckets (32 entries) at load <= 6.5");
        Assert.That(overflowRatio, Is.LessThanOrEqualTo(0.35), "too many overflow buckets for a well-spread hash");
    }

    /// <summary>Copying 2^20 entries into a new map in the source's iteration order costs at most 2x a random-order copy (Rust's quadratic-copy bug), with random seeds and with the same fixed seed on both maps.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void CopyInIterationOrder_NotQuadratic(bool sameFixedSeed)
    {
        const int Count = 1 << 20;
        int seed = TestSeed.Next(nameof(CopyInIterationOrder_NotQuadratic));
        var rng = new Random(seed);
        uint hash0 = (uint)rng.Next();
        long[] keys = new long[Count];
        using var source = sameFixedSeed ? new NativeMap<long, long>(0, null, hash0) : new NativeMap<long, long>();
        for (int i = 0; i < Count; i++)
        {
            do
            {
                keys[i] = rng.NextInt64();
            }
            while (!source.TryAdd(keys[i], i));
        }
        rng.Shuffle(keys);
        NativeMap<long, long> NewTarget() => sameFixedSeed ? new NativeMap<long, long>(0, null, hash0) : new NativeMap<long, long>();
        double iterationOrder = Timing.MedianNsPerOp(() =>
        {
            using NativeMap<long, long> t = NewTarget();
            foreach (KeyValuePair<long, long> kv in source)
            {
                t[kv.Key] = kv.Value;
            }
        }, Count, samples: 3, minSampleMs: 1);
        double randomOrder = Timing.MedianNsPerOp(() =>
        {
            using NativeMap<long, long> t = NewTarget();
            foreach (long k in keys)
            {
                t[k] = k;
            }
        }, Count, samples: 3, minSampleMs: 1);
        TestContext.Out.WriteLine($"copy of 2^20 ({(sameFixedSeed ? "same fixed seed" : "random seeds")}): iteration order {iterationOrder:F1} ns/entry, random order {randomOrder:F1} ns/entry ({iterationOrder / randomOrder:F2}x)");
        Assert.That(iterationOrder / randomOrder, Is.LessThanOrEqualTo(2.0));
    }

    [Test]
    public void Seeds_DifferBetweenMaps_AndChangeOnClear()
    {
        var maps = Enumerable.Range(0, 1000).Select(_ => new NativeMap<long, long>()).ToList();
        try
        {
            int distinct = maps.Select(m => m.GetDebugState().Hash0).Distinct().Count();
            Assert.That(distinct, Is.GreaterThanOrEqualTo(998), "maps share seeds");
            Assert.That(maps.Select(m => m.HashOf(42)).Distinct().Count(), Is.GreaterThanOrEqualTo(998), "maps hash a key alike");
            NativeMap<long, long> m0 = maps[0];
            m0[1] = 1;
            uint before = m0.GetDebugState().Hash0;
            m0.Clear();
            Assert.That(m0.GetDebugState().Hash0, Is.Not.EqualTo(before), "Clear did not re-seed");
            m0[2] = 2;
            before = m0.GetDebugState().Hash0;
            m0.Remove(2);
            Assert.That(m0.GetDebugState().Hash0, Is.Not.EqualTo(before), "emptying by Remove did not re-seed");
        }
        finally
        {
            maps.ForEach(m => m.Dispose());
        }
    }

    private readonly record struct OneInt(int X);

    private readonly record struct OneLong(long X);

    private readonly record struct OneDouble(double X);

    /// <summary>A key whose GetHashCode is the identity (the worst honest user hash).</summary>
    private readonly struct IdentityHash(int x) : IEquatable<IdentityHash>
    {
        public int X { get; } = x;

        public bool Equals(IdentityHash other) => X == other.X;

        public override bool Equals(object? obj) => obj is IdentityHash o && Equals(o);

        public override int GetHashCode() => X;
    }
}
