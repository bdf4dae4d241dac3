using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

public sealed class ConcurrencyAndDisposeTests : LeakCheckedTest
{
    [TearDown]
    public void ResetHostileKey() => HostileKey.Reset();

    [Test]
    public void SecondWriter_WhileAWriteIsInProgress_GetsConcurrentMapWrites_AndChangesNothing()
    {
        using var map = new NativeMap<HostileKey, long>();
        for (int i = 0; i < 100; i++)
        {
            map[new HostileKey(i)] = i;
        }
        using var inEquals = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Exception? secondWriter = null;
        var writer = new Thread(() =>
        {
            HostileKey.OnEquals = id =>
            {
                inEquals.Set();
                release.Wait();
            };
            map[new HostileKey(5)] = 500; // blocks inside Equals while holding the writer flag
            HostileKey.OnEquals = null;
        });
        writer.Start();
        Assert.That(inEquals.Wait(TimeSpan.FromSeconds(30)), Is.True);
        var intruder = new Thread(() =>
        {
            try
            {
                map[new HostileKey(1000)] = 1;
            }
            catch (Exception e)
            {
                secondWriter = e;
            }
        });
        intruder.Start();
        intruder.Join();
        release.Set();
        writer.Join();
        Assert.That(secondWriter, Is.TypeOf<InvalidOperationException>().And.Message.Contains("concurrent map writes"));
        Assert.That(map.Count, Is.EqualTo(100));
        Assert.That(map[new HostileKey(5)], Is.EqualTo(500));
        Assert.That(map.ContainsKey(new HostileKey(1000)), Is.False);
        map.CheckInvariants();
    }

    [Test]
    public void ReentrantWrite_FromEquals_IsRefused()
    {
        using var map = new NativeMap<HostileKey, long>();
        map[new HostileKey(1)] = 1;
        HostileKey.OnEquals = _ => map[new HostileKey(2)] = 2;
        var e = Assert.Throws<InvalidOperationException>(() => map[new HostileKey(1)] = 10);
        Assert.That(e!.Message, Does.Contain("concurrent map writes"));
        HostileKey.OnEquals = null;
        Assert.That(map.Count, Is.EqualTo(1));
        Assert.That(map[new HostileKey(1)], Is.EqualTo(1));
        map.CheckInvariants();
    }

    [Test]
    public void ReentrantRead_FromEqualsDuringAWrite_IsDetected()
    {
        using var map = new NativeMap<HostileKey, long>();
        map[new HostileKey(1)] = 1;
        HostileKey.OnEquals = _ => map.ContainsKey(new HostileKey(3));
        var e = Assert.Throws<InvalidOperationException>(() => map[new HostileKey(1)] = 10);
        Assert.That(e!.Message, Does.Contain("concurrent map read and map write"));
        HostileKey.OnEquals = null;
        Assert.That(map[new HostileKey(1)], Is.EqualTo(1));
    }

    [Test]
    public void ThrowingEquals_DuringInsert_LeavesTheMapAsItWas()
    {
        using var map = new NativeMap<HostileKey, long>();
        for (int i = 0; i < 50; i++)
        {
            map[new HostileKey(i)] = i;
        }
        HostileKey.ThrowOnEquals = id => id == 7;
        Assert.Throws<HostileKeyException>(() => map[new HostileKey(7)] = 70);
        HostileKey.ThrowOnEquals = null;
        Assert.That(map.Count, Is.EqualTo(50));
        Assert.That(map[new HostileKey(7)], Is.EqualTo(7));
        map[new HostileKey(60)] = 60;
        map.CheckInvariants();
    }

    [Test]
    public void ThrowingGetHashCode_InTheMiddleOfAnEvacuation_LeavesAConsistentMap_AndTheGrowthFinishesLater()
    {
        using var map = new NativeMap<HostileKey, long>(52);
        for (int i = 0; i < 52; i++)
        {
            map[new HostileKey(i)] = i;
        }
        // The 53rd insert starts a doubling and evacuates; make the rehash of key 30 throw.
        int calls = 0;
        HostileKey.ThrowOnHash = id => id == 30 && ++calls > 0;
        int failures = 0;
        for (int i = 52; i < 70; i++)
        {
            try
            {
                map[new HostileKey(i)] = i;
            }
            catch (HostileKeyException)
            {
                failures++;
            }
            // The checker hashes every key itself: suspend the fault while it runs.
            Func<long, bool>? fault = HostileKey.ThrowOnHash;
            HostileKey.ThrowOnHash = null;
            map.CheckInvariants();
            Assert.That(map.Count, Is.EqualTo(i + 1 - failures));
            HostileKey.ThrowOnHash = fault;
        }
        Assert.That(failures, Is.GreaterThan(0), "an evacuation hit the throwing key");
        HostileKey.ThrowOnHash = null;
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(1));
        for (int i = 70; map.GetStats().IsGrowing; i++)
        {
            map[new HostileKey(i)] = i;
        }
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(1), "the interrupted growth finished; no second one started");
        for (int i = 0; i < 52; i++)
        {
            Assert.That(map[new HostileKey(i)], Is.EqualTo(i), $"earlier entry {i}");
        }
        map.CheckInvariants();
    }

    [Test]
    public void AfterDispose_EveryMemberThrowsObjectDisposed()
    {
        var map = new NativeMap<long, long>();
        map[1] = 1;
        map.Dispose();
        map.Dispose(); // idempotent
        Assert.That(map.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => _ = map.Count);
        Assert.Throws<ObjectDisposedException>(() => _ = map[1]);
        Assert.Throws<ObjectDisposedException>(() => map[1] = 2);
        Assert.Throws<ObjectDisposedException>(() => map.TryGetValue(1, out _));
        Assert.Throws<ObjectDisposedException>(() => map.GetValueOrDefault(1));
        Assert.Throws<ObjectDisposedException>(() => map.ContainsKey(1));
        Assert.Throws<ObjectDisposedException>(() => map.Add(3, 3));
        Assert.Throws<ObjectDisposedException>(() => map.TryAdd(3, 3));
        Assert.Throws<ObjectDisposedException>(() => map.Remove(1));
        Assert.Throws<ObjectDisposedException>(() => map.Clear());
        Assert.Throws<ObjectDisposedException>(() => map.EnsureCapacity(10));
        Assert.Throws<ObjectDisposedException>(() => map.GetStats());
        Assert.Throws<ObjectDisposedException>(() => map.GetEnumerator());
        Assert.Throws<ObjectDisposedException>(() => _ = map.Capacity);
        Assert.Throws<ObjectDisposedException>(() => map.Keys.Count.ToString());
    }

    [Test]
    public void Dispose_FromInsideAWrite_IsRefused()
    {
        var map = new NativeMap<HostileKey, long>();
        map[new HostileKey(1)] = 1;
        HostileKey.OnEquals = _ => map.Dispose();
        Assert.Throws<InvalidOperationException>(() => map[new HostileKey(1)] = 2);
        HostileKey.OnEquals = null;
        Assert.That(map.IsDisposed, Is.False);
        Assert.That(map[new HostileKey(1)], Is.EqualTo(1));
        map.Dispose();
    }

    [Test]
    public void ForgottenMap_IsFreedByItsFinalizer()
    {
        long before = NativeMapMemory.LiveBytes;
        AllocateAndDrop();
        Assert.That(NativeMapMemory.LiveBytes, Is.GreaterThan(before));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(before));

        static void AllocateAndDrop()
        {
            var map = new NativeMap<long, long>(100_000);
            map[1] = 1;
        }
    }

    [Test]
    public void ConcurrentReaders_WithoutAWriter_AllSucceed()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 100_000; i++)
        {
            map[i] = i * 2;
        }
        Parallel.For(0, 4, t =>
        {
            for (long i = t; i < 100_000; i += 4)
            {
                if (map[i] != i * 2)
                {
                    throw new InvalidOperationException($"wrong value for {i}");
                }
            }
            long count = 0;
            foreach (KeyValuePair<long, long> kv in map)
            {
                count++;
            }
            if (count != 100_000)
            {
                throw new InvalidOperationException("enumeration lost entries");
            }
        });
    }
}
