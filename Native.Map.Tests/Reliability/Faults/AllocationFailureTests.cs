using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Faults;

/// <summary>
/// Faults survived: the N-th allocation fails, for N = 1, 2, 3, ... until the workload completes,
/// during growth, overflow-bucket allocation, indirect key/value blocks and EnsureCapacity. See
/// <see cref="FaultHarness"/> for what is checked at each fault.
/// </summary>
[TestFixture]
[Category("Faults")]
public sealed class AllocationFailureTests : LeakCheckedTest
{
    private static long s_faults;

    [OneTimeTearDown]
    public void ReportFaults() => TestContext.Out.WriteLine($"allocation failures injected in this fixture: {s_faults}");

    private static void Count(int faults)
    {
        Assert.That(faults, Is.GreaterThan(0), "no allocation failed: the workload does not allocate");
        Interlocked.Add(ref s_faults, faults);
    }

    private static List<FaultStep<TKey, TValue, THasher>> Sets<TKey, TValue, THasher>(IEnumerable<int> ids, Func<int, TKey> key, Func<int, TValue> value)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey> =>
        [.. ids.Select(i => FaultStep<TKey, TValue, THasher>.Set(key(i), value(i)))];

    /// <summary>Growth from one bucket to 2^7, with removes in between (a remove during growth evacuates, which may allocate).</summary>
    [TestCase(0u)]
    [TestCase(0xDEADBEEFu)]
    public void Growth_EveryAllocationFails_ContentsKept(uint hash0)
    {
        var prepare = Sets<long, long, DefaultKeyHasher<long>>(Enumerable.Range(0, 52), i => i, i => i * 10L);
        var workload = new List<FaultStep<long, long, DefaultKeyHasher<long>>>();
        for (int i = 52; i < 700; i++)
        {
            workload.Add(FaultStep<long, long, DefaultKeyHasher<long>>.Set(i, i * 10L));
            if (i % 3 == 0)
            {
                workload.Add(FaultStep<long, long, DefaultKeyHasher<long>>.Remove(i / 2));
            }
        }
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, hash0), prepare, workload));
    }

    /// <summary>The first write of a map without buckets (MapExtra, then the array).</summary>
    [Test]
    public void FirstWrite_EveryAllocationFails_MapStillEmptyAndUsable()
    {
        var workload = Sets<long, long, DefaultKeyHasher<long>>(Enumerable.Range(0, 20), i => i, i => i);
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, 1u), [], workload));
    }

    /// <summary>One long chain (16 distinct hashes): preallocated overflow buckets, then overflow chunks, then same-size growth after deletes.</summary>
    [Test]
    public void OverflowChains_EveryAllocationFails_ContentsKept()
    {
        var workload = new List<FaultStep<long, long, CollidingHasher>>();
        for (int i = 0; i < 400; i++)
        {
            workload.Add(FaultStep<long, long, CollidingHasher>.Set(i * 16L, i)); // all in one chain
        }
        for (int i = 0; i < 400; i += 2)
        {
            workload.Add(FaultStep<long, long, CollidingHasher>.Remove(i * 16L));
        }
        for (int i = 0; i < 300; i++)
        {
            workload.Add(FaultStep<long, long, CollidingHasher>.Set((i * 16L) + 1, i)); // a second chain
        }
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, long, CollidingHasher>(0, a, 5u), [], workload));
    }

    /// <summary>Overflow buckets at B >= 4: the preallocated tail runs out and chunks are allocated.</summary>
    [Test]
    public void OverflowPastPreallocatedTail_EveryAllocationFails_ContentsKept()
    {
        var prepare = Sets<long, long, CollidingHasher>(Enumerable.Range(0, 16), i => i, i => i);
        var workload = Sets<long, long, CollidingHasher>(Enumerable.Range(1, 600), i => i * 16L, i => -i);
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, long, CollidingHasher>(1000, a, 5u), prepare, workload));
    }

    /// <summary>Key and value both indirect (200 and 320 bytes): two blocks per insert, freed on remove.</summary>
    [Test]
    public void IndirectKeyAndValue_EveryAllocationFails_ContentsKept()
    {
        var workload = new List<FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>>();
        for (int i = 0; i < 120; i++)
        {
            workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.Set(new Big200(i), new Big320(i)));
            if (i % 4 == 3)
            {
                workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.Remove(new Big200(i - 2)));
            }
        }
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<Big200, Big320, DefaultKeyHasher<Big200>>(0, a, 3u), [], workload));
    }

    /// <summary>Only the key is indirect (129 bytes).</summary>
    [Test]
    public void IndirectKeyOnly_EveryAllocationFails_ContentsKept()
    {
        var workload = Sets<Sized129, long, DefaultKeyHasher<Sized129>>(Enumerable.Range(0, 70), i => Sized129.Create(i), i => i);
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<Sized129, long, DefaultKeyHasher<Sized129>>(0, a, 3u), [], workload));
    }

    /// <summary>Only the value is indirect (4000 bytes); a failed value block must release nothing twice.</summary>
    [Test]
    public void IndirectValueOnly_EveryAllocationFails_ContentsKept()
    {
        var workload = Sets<long, Sized4000, DefaultKeyHasher<long>>(Enumerable.Range(0, 70), i => i, i => Sized4000.Create(i));
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, Sized4000, DefaultKeyHasher<long>>(0, a, 3u), [], workload));
    }

    /// <summary>EnsureCapacity on an empty map that already has buckets (the array is replaced at once).</summary>
    [Test]
    public void EnsureCapacity_EmptyMapWithBuckets_FailureLeavesMapUnchanged()
    {
        var prepare = new List<FaultStep<long, long, DefaultKeyHasher<long>>>
        {
            FaultStep<long, long, DefaultKeyHasher<long>>.Set(1, 1),
            FaultStep<long, long, DefaultKeyHasher<long>>.Remove(1),
        };
        var workload = new List<FaultStep<long, long, DefaultKeyHasher<long>>> { FaultStep<long, long, DefaultKeyHasher<long>>.EnsureCapacity(5000) };
        workload.AddRange(Sets<long, long, DefaultKeyHasher<long>>(Enumerable.Range(0, 100), i => i, i => i));
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, 9u), prepare, workload));
    }

    /// <summary>EnsureCapacity on a non-empty map (starts an incremental doubling), then the inserts that keep doubling towards the target: contents survive every fault.</summary>
    [Test]
    public void EnsureCapacity_NonEmptyMap_FailureKeepsContents()
    {
        var prepare = Sets<long, long, DefaultKeyHasher<long>>(Enumerable.Range(0, 30), i => i, i => i);
        var workload = new List<FaultStep<long, long, DefaultKeyHasher<long>>> { FaultStep<long, long, DefaultKeyHasher<long>>.EnsureCapacity(2000, capacityUnchangedOnFailure: false) };
        workload.AddRange(Sets<long, long, DefaultKeyHasher<long>>(Enumerable.Range(30, 400), i => i, i => i));
        Count(FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, 9u), prepare, workload));
    }

    /// <summary>
    /// Regression (found by this suite): EnsureCapacity on a non-empty map once recorded its target B
    /// before the new array was allocated, so a failed call still changed Capacity.
    /// </summary>
    [Test]
    public void EnsureCapacity_NonEmptyMap_FailureLeavesCapacityUnchanged()
    {
        var alloc = new TrackingAllocator();
        using var map = new NativeMap<long, long>(0, alloc, 9u);
        for (int i = 0; i < 30; i++)
        {
            map[i] = i;
        }
        int capacity = map.Capacity;
        alloc.FailAllocation(1);
        Assert.Throws<OutOfMemoryException>(() => map.EnsureCapacity(2000));
        Interlocked.Increment(ref s_faults);
        Assert.That(map.Capacity, Is.EqualTo(capacity), "EnsureCapacity threw OutOfMemoryException but Capacity changed");
    }

    /// <summary>
    /// Regression (found by this suite): after EnsureCapacity(int.MaxValue) on a non-empty map, later
    /// growths aim at B = 29; once memory ran out, no insert of a new key could succeed again. Growth
    /// toward a requested capacity is now optional and dropped when memory runs out.
    /// </summary>
    [Test]
    public void EnsureCapacity_Huge_ThenOutOfMemory_MapStillAcceptsInsertsWithinItsArray()
    {
        var alloc = new TrackingAllocator { BudgetBytes = 16 << 20 };
        using var map = new NativeMap<long, long>(0, alloc, 9u);
        map[0] = 0;
        try
        {
            map.EnsureCapacity(int.MaxValue);
        }
        catch (OutOfMemoryException)
        {
            Interlocked.Increment(ref s_faults);
        }
        int failures = 0;
        for (long i = 1; i < 200_000 && failures < 1000; i++)
        {
            try
            {
                map[i] = i;
            }
            catch (OutOfMemoryException)
            {
                failures++;
            }
        }
        Interlocked.Add(ref s_faults, failures);
        map.CheckInvariants();
        Assert.That(failures, Is.LessThan(1000), $"inserts keep failing with OutOfMemoryException at Count {map.Count} (B {map.GetStats().B}, budget {alloc.BudgetBytes} bytes): the map no longer accepts new keys");
    }

    /// <summary>A capacity hint whose array cannot be allocated: the constructor throws and nothing stays allocated or registered.</summary>
    [TestCase(1)]
    [TestCase(2)]
    public void Constructor_AllocationFails_ThrowsAndFreesEverything(int failAt)
    {
        var alloc = new TrackingAllocator();
        long maps = NativeMapMemory.LiveMaps;
        alloc.FailAllocation(failAt);
        Assert.Throws<OutOfMemoryException>(() => _ = new NativeMap<long, long>(10_000, alloc));
        alloc.AssertClean();
        Assert.That(NativeMapMemory.LiveMaps, Is.EqualTo(maps), "a map that failed to construct is still counted");
        Interlocked.Increment(ref s_faults);
    }
}
