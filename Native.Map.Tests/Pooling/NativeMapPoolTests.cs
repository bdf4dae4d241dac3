using Microsoft.Extensions.ObjectPool;
using Native.Map.Tests.Support;
using Native.Map.Tests.Telemetry;
using NUnit.Framework;

namespace Native.Map.Tests.Pooling;

/// <summary>
/// <see cref="NativeMapPooledObjectPolicy{TKey, TValue}"/> with the pools of
/// Microsoft.Extensions.ObjectPool: cleared maps keep their buckets, oversized and disposed maps are
/// refused, and nothing is left behind in native memory whichever pool is used.
/// </summary>
public sealed class NativeMapPoolTests : LeakCheckedTest
{
    /// <summary>The pool kinds a user may plausibly build around the policy.</summary>
    public enum PoolKind
    {
        /// <summary><c>new DefaultObjectPoolProvider().Create(policy)</c>: a disposable pool.</summary>
        Provider,

        /// <summary><c>ObjectPool.Create(policy)</c>: the same, through the static helper.</summary>
        StaticCreate,

        /// <summary><c>new DefaultObjectPool&lt;T&gt;(policy)</c>: not disposable, drops what it refuses.</summary>
        DefaultObjectPool,
    }

    private static ObjectPool<NativeMap<long, long>> CreatePool(PoolKind kind, NativeMapPooledObjectPolicy<long, long> policy, int maximumRetained = 4) => kind switch
    {
        PoolKind.Provider => new DefaultObjectPoolProvider { MaximumRetained = maximumRetained }.Create(policy),
        PoolKind.StaticCreate => ObjectPool.Create(policy),
        _ => new DefaultObjectPool<NativeMap<long, long>>(policy, maximumRetained),
    };

    private static void Fill(NativeMap<long, long> map, long n, long offset = 0)
    {
        for (long i = 0; i < n; i++)
        {
            map[offset + i] = i;
        }
    }

    [Test]
    public void Constructor_RejectsNegativeOrInconsistentCapacities()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new NativeMapPooledObjectPolicy<long, long>(-1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new NativeMapPooledObjectPolicy<long, long>(100, 99));
        var policy = new NativeMapPooledObjectPolicy<long, long>(100, 1000);
        Assert.That((policy.InitialCapacity, policy.MaximumRetainedCapacity), Is.EqualTo((100, 1000)));
    }

    [Test]
    public void Create_MakesAnEmptyMapWithTheInitialCapacity()
    {
        var policy = new NativeMapPooledObjectPolicy<long, long>(10_000, 10_000);
        using NativeMap<long, long> map = policy.Create();
        Assert.That(map.Count, Is.Zero);
        Assert.That(map.Capacity, Is.GreaterThanOrEqualTo(10_000));
        Fill(map, 10_000);
        Assert.That(map.GetStats().GrowthsStarted, Is.Zero);
    }

    [Test]
    public void Return_ClearsTheMap_KeepsItsBuckets_AndTheSameFillGrowsNothing()
    {
        var policy = new NativeMapPooledObjectPolicy<long, long>(0, 100_000);
        using NativeMap<long, long> map = policy.Create();
        Fill(map, 50_000);
        NativeMapStats full = map.GetStats();
        Assert.That(policy.Return(map), Is.True);
        NativeMapStats returned = map.GetStats();
        Assert.That(returned.Count, Is.Zero);
        Assert.That(returned.B, Is.EqualTo(full.B));
        Assert.That(returned.NativeBytes, Is.LessThanOrEqualTo(full.NativeBytes), "overflow chunks are freed, the array is kept");
        Fill(map, 50_000, offset: 1_000_000);
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(full.GrowthsStarted));
    }

    [Test]
    public void Return_RefusesADisposedMap()
    {
        var policy = new NativeMapPooledObjectPolicy<long, long>(0, 1000);
        NativeMap<long, long> map = policy.Create();
        map.Dispose();
        Assert.That(policy.Return(map), Is.False);
        Assert.Throws<ArgumentNullException>(() => policy.Return(null!));
    }

    [Test]
    public void Return_DisposesAndRefusesAMapThatGrewPastTheMaximum()
    {
        var policy = new NativeMapPooledObjectPolicy<long, long>(0, 1000);
        NativeMap<long, long> atLimit = policy.Create();
        Fill(atLimit, 1000);
        Assert.That(policy.Return(atLimit), Is.True, "1000 entries fit the array a hint of 1000 allocates");
        atLimit.Dispose();

        NativeMap<long, long> tooBig = policy.Create();
        Fill(tooBig, 5000);
        Assert.That(policy.Return(tooBig), Is.False);
        Assert.That(tooBig.IsDisposed, Is.True, "refused maps are disposed by the policy, whatever the pool does next");
    }

    [Test]
    public void MaximumIsRoundedLikeAHint_SoAFreshMapIsNeverRefused()
    {
        // A hint of 1000 allocates 2^8 buckets, capacity 1664: the policy compares arrays, not raw numbers.
        var policy = new NativeMapPooledObjectPolicy<long, long>(1000, 1000);
        NativeMap<long, long> map = policy.Create();
        Fill(map, 1664);
        Assert.That(policy.Return(map), Is.True);
        map.Dispose();
    }

    [TestCase(PoolKind.Provider)]
    [TestCase(PoolKind.StaticCreate)]
    [TestCase(PoolKind.DefaultObjectPool)]
    public void EveryPoolKind_DisposesTheMapsThePolicyRefuses(PoolKind kind)
    {
        long start = NativeMapMemory.LiveBytes;
        var policy = new NativeMapPooledObjectPolicy<long, long>(0, 1000);
        ObjectPool<NativeMap<long, long>> pool = CreatePool(kind, policy);
        NativeMap<long, long> map = pool.Get();
        Fill(map, 100_000);
        pool.Return(map);
        Assert.That(map.IsDisposed, Is.True);
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(start), "the refused map's memory is back at once, not at the next GC");
        Assert.That(pool.Get(), Is.Not.SameAs(map));
        (pool as IDisposable)?.Dispose();
    }

    [TestCase(PoolKind.Provider)]
    [TestCase(PoolKind.StaticCreate)]
    public void DisposablePool_DisposesRetainedMaps_AndGetThenThrows(PoolKind kind)
    {
        long start = NativeMapMemory.LiveBytes;
        var policy = new NativeMapPooledObjectPolicy<long, long>(10_000, 100_000);
        ObjectPool<NativeMap<long, long>> pool = CreatePool(kind, policy);
        Assert.That(pool, Is.InstanceOf<IDisposable>(), "NativeMap is IDisposable, so ObjectPool picks its disposable pool");
        NativeMap<long, long> a = pool.Get(), b = pool.Get(), rentedDuringDispose = pool.Get();
        Fill(a, 10_000);
        Fill(b, 20_000);
        pool.Return(a);
        pool.Return(b);
        Assert.That(NativeMapMemory.LiveBytes, Is.GreaterThan(start));

        ((IDisposable)pool).Dispose();
        Assert.That(a.IsDisposed && b.IsDisposed, Is.True, "retained maps are disposed with the pool");
        Assert.Throws<ObjectDisposedException>(() => pool.Get());
        pool.Return(rentedDuringDispose);
        Assert.That(rentedDuringDispose.IsDisposed, Is.True, "a map returned after the pool was disposed is disposed");
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(start));
    }

    [Test]
    public void DisposablePool_DisposesAMapThatDoesNotFit()
    {
        var policy = new NativeMapPooledObjectPolicy<long, long>(100, 100);
        var pool = new DefaultObjectPoolProvider { MaximumRetained = 1 }.Create(policy);
        NativeMap<long, long> kept = pool.Get(), extra = pool.Get();
        pool.Return(kept);
        pool.Return(extra);
        Assert.That(kept.IsDisposed, Is.False);
        Assert.That(extra.IsDisposed, Is.True, "the pool was full: it disposed the map instead of dropping it");
        ((IDisposable)pool).Dispose();
        Assert.That(kept.IsDisposed, Is.True);
    }

    [Test]
    public void PolicyForACustomHasher_PoolsMapsOfThatHasher()
    {
        var policy = new NativeMapPooledObjectPolicy<long, long, BitwiseKeyHasher<long>>(1000, 1000);
        var pool = ObjectPool.Create(policy);
        NativeMap<long, long, BitwiseKeyHasher<long>> map = pool.Get();
        for (long i = 0; i < 1000; i++)
        {
            map[i] = i;
        }
        pool.Return(map);
        Assert.That(pool.Get(), Is.SameAs(map));
        Assert.That(map.Count, Is.Zero);
        pool.Return(map);
        ((IDisposable)pool).Dispose();
        Assert.That(map.IsDisposed, Is.True);
    }

    [Test]
    public void ThousandCycles_OfGetFillReturn_GrowOnlyInTheFirstCycle_AndHoldMemorySteady()
    {
        const int cycles = 1000;
        const int n = 10_000;
        int seed = TestSeed.Next(nameof(ThousandCycles_OfGetFillReturn_GrowOnlyInTheFirstCycle_AndHoldMemorySteady));
        var keys = new SplitMix64((ulong)seed);
        long start = NativeMapMemory.LiveBytes;
        var pool = new DefaultObjectPoolProvider().Create(new NativeMapPooledObjectPolicy<long, long>(0, 1 << 20));
        using var recorder = new GrowthRecorder();
        long afterFirstCycle = 0;
        long firstCycleGrowths = 0;
        NativeMap<long, long>? first = null;
        try
        {
            for (int cycle = 0; cycle < cycles; cycle++)
            {
                NativeMap<long, long> map = pool.Get();
                first ??= map;
                if (!ReferenceEquals(map, first))
                {
                    Assert.Fail($"cycle {cycle}: the pool handed out another map");
                }
                long growthsBefore = map.GetStats().GrowthsStarted;
                for (int i = 0; i < n; i++)
                {
                    map[(long)keys.Next()] = i;
                }
                long grew = map.GetStats().GrowthsStarted - growthsBefore;
                pool.Return(map);
                if (cycle == 0)
                {
                    firstCycleGrowths = grew;
                    afterFirstCycle = NativeMapMemory.LiveBytes;
                    TestContext.Out.WriteLine($"cycle 0: {grew} growths (telemetry: {recorder.GrowthsStarted}), {afterFirstCycle - start:N0} native bytes kept by the pool");
                    recorder.Clear();
                }
                else if (grew != 0 || NativeMapMemory.LiveBytes != afterFirstCycle)
                {
                    Assert.Fail($"cycle {cycle}: {grew} growths, live bytes {NativeMapMemory.LiveBytes:N0} (after cycle 0: {afterFirstCycle:N0})");
                }
            }
            Assert.That(firstCycleGrowths, Is.GreaterThan(0), "the first fill starts from a small map");
            Assert.That(recorder.GrowthsStarted, Is.Zero, "telemetry saw no growth in cycles 1..999");
            Assert.That(recorder.BucketsEvacuated, Is.Zero);
            Assert.That(first!.GetStats().GrowthsStarted, Is.EqualTo(firstCycleGrowths));
        }
        finally
        {
            ((IDisposable)pool).Dispose();
        }
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(start));
    }
}
