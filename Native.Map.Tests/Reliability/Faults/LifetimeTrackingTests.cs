using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Faults;

/// <summary>
/// Every block freed exactly once, with the size it was allocated with, and nothing live after
/// Dispose: checked by <see cref="TrackingAllocator"/> in the awkward moments (mid-growth, indirect
/// slots, enumerators pinning retired tables, the finalizer, eight threads disposing at once).
/// </summary>
[TestFixture]
[Category("Faults")]
public sealed class LifetimeTrackingTests : LeakCheckedTest
{
    /// <summary>Inserts until a growth is in progress and at least one old bucket is left to evacuate.</summary>
    private static void FillUntilMidGrowth<TKey, TValue>(NativeMap<TKey, TValue> map, Func<int, TKey> key, Func<int, TValue> value, int atLeast, int first = 0)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
    {
        int i = first;
        while (i < atLeast || !map.GetStats().IsGrowing || map.GetStats().EvacuatedBuckets * 2 > map.GetStats().OldBucketCount)
        {
            map[key(i)] = value(i);
            i++;
            Assert.That(i, Is.LessThan(10_000_000), "never caught the map mid-growth");
        }
    }

    [TestCase(100)]
    [TestCase(5000)]
    public void Dispose_MidGrowth_FreesEverythingOnce(int atLeast)
    {
        var alloc = new TrackingAllocator();
        var map = new NativeMap<long, long>(0, alloc);
        FillUntilMidGrowth(map, i => i, i => i, atLeast);
        map.CheckInvariants();
        map.Dispose();
        map.Dispose();
        alloc.AssertClean();
        Assert.That(alloc.Frees, Is.EqualTo(alloc.Allocations));
    }

    [Test]
    public void Dispose_MidGrowth_IndirectSlots_FreesEveryBlockOnce()
    {
        var alloc = new TrackingAllocator();
        var map = new NativeMap<Big200, Big320>(0, alloc);
        for (int i = 0; i < 300; i++)
        {
            map[new Big200(i)] = new Big320(i);
        }
        for (int i = 0; i < 300; i += 3)
        {
            map.Remove(new Big200(i));
        }
        FillUntilMidGrowth(map, i => new Big200(i), i => new Big320(i), 400, first: 300);
        Assert.That(map.GetStats().IsGrowing, Is.True);
        map.CheckInvariants();
        map.Dispose();
        alloc.AssertClean();
        Assert.That(alloc.Frees, Is.EqualTo(alloc.Allocations));
    }

    /// <summary>Enumerators abandoned on old arrays keep them retired; Dispose frees those too, once, and the enumerators then throw.</summary>
    [Test]
    public void Dispose_WithAbandonedEnumeratorsPinningRetiredTables_FreesEverythingOnce()
    {
        var alloc = new TrackingAllocator();
        var map = new NativeMap<Big200, Big320>(0, alloc);
        var abandoned = new List<NativeMap<Big200, Big320>.Enumerator>();
        for (int i = 0; i < 2000; i++)
        {
            map[new Big200(i)] = new Big320(i);
            if (i % 97 == 0)
            {
                NativeMap<Big200, Big320>.Enumerator e = map.GetEnumerator();
                e.MoveNext();
                abandoned.Add(e);
            }
            if (i % 5 == 0)
            {
                map.Remove(new Big200(i / 2));
            }
        }
        Assert.That(map.GetDebugState().RetiredTables, Is.GreaterThan(0), "no table was retired: the test does not exercise pinning");
        map.CheckInvariants();
        map.Dispose();
        alloc.AssertClean();
        foreach (NativeMap<Big200, Big320>.Enumerator e in abandoned)
        {
            NativeMap<Big200, Big320>.Enumerator copy = e;
            Assert.Throws<ObjectDisposedException>(() => copy.MoveNext());
            copy.Dispose();
        }
        alloc.AssertClean();
    }

    [Test]
    public void Clear_MidGrowth_IndirectSlots_ThenDispose_FreesEverythingOnce()
    {
        var alloc = new TrackingAllocator();
        var map = new NativeMap<Big200, Big320>(0, alloc);
        FillUntilMidGrowth(map, i => new Big200(i), i => new Big320(i), 200);
        using (NativeMap<Big200, Big320>.Enumerator e = map.GetEnumerator())
        {
            e.MoveNext();
            map.Clear();
            map.CheckInvariants();
            Assert.That(e.MoveNext(), Is.False, "an enumerator returned an entry after Clear");
        }
        for (int i = 0; i < 100; i++)
        {
            map[new Big200(i)] = new Big320(-i);
        }
        map.CheckInvariants();
        map.Dispose();
        alloc.AssertClean();
    }

    /// <summary>A map nobody disposes is freed by its finalizer, exactly once.</summary>
    [Test]
    public void Finalizer_FreesForgottenMapOnce()
    {
        var alloc = new TrackingAllocator();
        CreateAndForget(alloc);
        for (int i = 0; i < 5 && alloc.LiveBlocks > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        alloc.AssertClean();
        Assert.That(alloc.Frees, Is.EqualTo(alloc.Allocations));

        static void CreateAndForget(TrackingAllocator alloc)
        {
            var map = new NativeMap<Big200, Big320>(0, alloc);
            for (int i = 0; i < 500; i++)
            {
                map[new Big200(i)] = new Big320(i);
            }
            NativeMap<Big200, Big320>.Enumerator e = map.GetEnumerator();
            e.MoveNext();
            for (int i = 500; i < 1500; i++)
            {
                map[new Big200(i)] = new Big320(i);
            }
        }
    }

    /// <summary>Dispose from 8 threads released together: exactly one frees, the others return, nothing is freed twice.</summary>
    [Test]
    public void Dispose_From8ThreadsAtOnce_FreesExactlyOnce()
    {
        const int Rounds = 300;
        const int Threads = 8;
        int seed = TestSeed.Next(nameof(Dispose_From8ThreadsAtOnce_FreesExactlyOnce));
        var rng = new Random(seed);
        for (int round = 0; round < Rounds; round++)
        {
            var alloc = new TrackingAllocator();
            var map = new NativeMap<long, Big320>(0, alloc);
            int n = rng.Next(1, 3000);
            for (int i = 0; i < n; i++)
            {
                map[i] = new Big320(i);
            }
            long allocations = alloc.Allocations;
            using var start = new Barrier(Threads);
            var errors = new Exception?[Threads];
            var threads = new Thread[Threads];
            for (int t = 0; t < Threads; t++)
            {
                int id = t;
                threads[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    try
                    {
                        map.Dispose();
                    }
                    catch (Exception e)
                    {
                        errors[id] = e;
                    }
                });
                threads[t].Start();
            }
            foreach (Thread t in threads)
            {
                Assert.That(t.Join(TimeSpan.FromSeconds(30)), Is.True, "Dispose hung");
            }
            Assert.That(errors.Where(e => e != null), Is.Empty, $"round {round}: Dispose threw");
            Assert.That(map.IsDisposed, Is.True);
            alloc.AssertClean();
            Assert.That(alloc.Frees, Is.EqualTo(allocations), $"round {round}: frees");
            Assert.Throws<ObjectDisposedException>(() => _ = map.Count);
        }
    }

    // ---- the detector itself: each violation is seen ----------------------------------------

    [Test]
    public unsafe void Tracker_DetectsDoubleFree_UnknownFree_SizeMismatch_ZeroByteAllocation_Leak()
    {
        var alloc = new TrackingAllocator();
        void* a = alloc.Allocate(64, zeroed: true);
        alloc.Free(a, 64);
        alloc.Free(a, 64);
        Assert.That(alloc.Violations, Has.Some.Contains("double free"));

        alloc = new TrackingAllocator();
        long local = 0;
        alloc.Free(&local, 8);
        Assert.That(alloc.Violations, Has.Some.Contains("unknown pointer"));

        alloc = new TrackingAllocator();
        void* b = alloc.Allocate(100, zeroed: false);
        Assert.That(((byte*)b)[99], Is.EqualTo(TrackingAllocator.GarbageByte), "non-zeroed blocks are filled with garbage");
        alloc.Free(b, 99);
        Assert.That(alloc.Violations, Has.Some.Contains("size mismatch"));

        alloc = new TrackingAllocator();
        void* c = alloc.Allocate(0, zeroed: true);
        Assert.That(alloc.Violations, Has.Some.Contains("zero-byte"));
        alloc.Free(c, 0);

        alloc = new TrackingAllocator();
        void* d = alloc.Allocate(32, zeroed: true);
        Assert.Throws<InvalidOperationException>(alloc.AssertClean, "a live block must fail AssertClean");
        alloc.Free(d, 32);
        alloc.AssertClean();

        alloc.FailAllocation(2);
        void* e = alloc.Allocate(8, zeroed: true);
        Assert.Throws<OutOfMemoryException>(() => alloc.Allocate(8, zeroed: true));
        alloc.Free(e, 8);
        alloc.AssertClean();
    }
}
