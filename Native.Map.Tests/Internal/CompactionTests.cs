using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

/// <summary>The in-place same-size growth (compaction) and its fallback to Go's same-size growth.</summary>
public sealed class CompactionTests : LeakCheckedTest
{
    /// <summary>Churns a map at constant size until a same-size growth starts; returns the live keys.</summary>
    private static List<long> ChurnUntilSameSizeGrowth(NativeMap<long, long> map, Random rng, ref long next, Action? beforeEachStep = null)
    {
        var live = new List<long>();
        for (; next < 3000; next++)
        {
            map[next] = next;
            live.Add(next);
        }
        while (map.GetStats().IsGrowing)
        {
            map[-1] = 0;
            map.Remove(-1);
        }
        long sameSize = map.GetStats().SameSizeGrowthsStarted;
        while (map.GetStats().SameSizeGrowthsStarted == sameSize)
        {
            beforeEachStep?.Invoke();
            int victim = rng.Next(live.Count);
            Assert.That(map.Remove(live[victim]), Is.True);
            live[victim] = next;
            map[next] = next;
            next++;
        }
        return live;
    }

    /// <summary>
    /// A new map churned until an in-place same-size growth (a compaction) started, asserted as such;
    /// <paramref name="live"/> its keys, <paramref name="next"/> the next unused key,
    /// <paramref name="atStart"/> its stats when the compaction started.
    /// </summary>
    private static NativeMap<long, long> StartInPlaceCompaction(Random rng, out List<long> live, out long next, out NativeMapStats atStart)
    {
        var map = new NativeMap<long, long>();
        try
        {
            next = 0;
            live = ChurnUntilSameSizeGrowth(map, rng, ref next);
            atStart = map.GetStats();
            Assert.That(atStart.IsGrowing && atStart.IsSameSizeGrowth, Is.True);
            Assert.That(map.GetDebugState().OldBuckets, Is.EqualTo((nint)0), "in place: no second array");
            return map;
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    [Test]
    public void UpdatesOfPresentKeys_DoCompactionWork_LikeEveryWrite()
    {
        // Inserts take an inlined fast path that skips the growth work; an update of a present key
        // during a compaction must not take it, or a workload of updates would never finish one.
        var rng = new Random(TestSeed.Next(nameof(UpdatesOfPresentKeys_DoCompactionWork_LikeEveryWrite)));
        using NativeMap<long, long> map = StartInPlaceCompaction(rng, out List<long> live, out _, out NativeMapStats st);
        long updates = 0;
        while (map.GetStats().IsGrowing)
        {
            Assert.That(updates, Is.LessThanOrEqualTo(st.BucketCount), "one cursor step per update");
            long key = live[rng.Next(live.Count)];
            map[key] = key + 1; // present: an update, never an insert
            updates++;
        }
        Assert.That(map.Count, Is.EqualTo(live.Count));
        map.CheckInvariants();
    }

    [Test]
    public void WithoutEnumerators_SameSizeGrowth_CompactsInPlace_NoNewArray_OverflowRecycled()
    {
        var rng = new Random(TestSeed.Next(nameof(WithoutEnumerators_SameSizeGrowth_CompactsInPlace_NoNewArray_OverflowRecycled)));
        using NativeMap<long, long> map = StartInPlaceCompaction(rng, out List<long> live, out long next, out NativeMapStats st);
        long overflowAtStart = st.OverflowBucketCount;
        long bytesAtStart = st.NativeBytes;
        int writes = 0;
        while (map.GetStats().IsGrowing)
        {
            int victim = rng.Next(live.Count);
            map.Remove(live[victim]);
            live[victim] = next;
            map[next++] = 0;
            writes += 2;
            Assert.That(map.GetStats().NativeBytes, Is.LessThanOrEqualTo(bytesAtStart), "recycled overflow buckets: no allocation during the compaction");
            if (writes % 64 == 0)
            {
                map.CheckInvariants();
            }
        }
        Assert.That(writes, Is.LessThanOrEqualTo(2 * (int)st.BucketCount + 2), "one cursor step per write");
        Assert.That(map.GetStats().OverflowBucketCount, Is.LessThan(overflowAtStart / 2), "sparse chains were compacted");
        map.CheckInvariants();
        foreach (long k in live)
        {
            Assert.That(map.ContainsKey(k), Is.True);
        }
        // Further churn reuses the freed overflow buckets before allocating.
        long bytes = map.GetStats().NativeBytes;
        for (int i = 0; i < 20_000; i++)
        {
            int victim = rng.Next(live.Count);
            map.Remove(live[victim]);
            live[victim] = next;
            map[next++] = 0;
        }
        Assert.That(map.GetStats().NativeBytes, Is.LessThanOrEqualTo(bytes + 2 * 4096 * 144), "bounded");
        map.CheckInvariants();
    }

    [Test]
    public void WithARegisteredEnumerator_SameSizeGrowth_IsGos_WithASecondArray()
    {
        int seed = TestSeed.Next(nameof(WithARegisteredEnumerator_SameSizeGrowth_IsGos_WithASecondArray));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        map[0] = 0;
        using NativeMap<long, long>.Enumerator e = map.GetEnumerator(); // registered for the whole churn
        e.MoveNext();
        long next = 1;
        ChurnUntilSameSizeGrowth(map, rng, ref next);
        Assert.That(map.GetDebugState().OldBuckets, Is.Not.EqualTo((nint)0), "an enumerator may be inside a chain: evacuate to a new array as Go does");
        map.CheckInvariants();
    }

    [Test]
    public void EnumeratorStartedDuringACompaction_PausesIt_AndKeepsTheContract()
    {
        int seed = TestSeed.Next(nameof(EnumeratorStartedDuringACompaction_PausesIt_AndKeepsTheContract));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        long next = 0;
        List<long> live = ChurnUntilSameSizeGrowth(map, rng, ref next);
        Assert.That(map.GetDebugState().OldBuckets, Is.EqualTo((nint)0));
        var original = new HashSet<long>(live);
        var removed = new HashSet<long>();
        var returned = new HashSet<long>();
        int steps = 0;
        foreach (KeyValuePair<long, long> kv in map)
        {
            Assert.That(returned.Add(kv.Key), Is.True, $"{kv.Key} returned twice");
            Assert.That(removed.Contains(kv.Key), Is.False);
            // Churn inside the foreach: deletes of not-yet-returned keys and inserts.
            long victim = live[rng.Next(live.Count)];
            if (!returned.Contains(victim) && map.Remove(victim))
            {
                removed.Add(victim);
            }
            map[next++] = 0;
            steps++;
        }
        foreach (long k in original)
        {
            Assert.That(returned.Contains(k) || removed.Contains(k), Is.True, $"survivor {k} missing");
        }
        Assert.That(steps, Is.GreaterThan(100));
        map.CheckInvariants();
    }

    [Test]
    public void DoublingDuringACompaction_EndsIt_AndForgetsTheFreeList()
    {
        int seed = TestSeed.Next(nameof(DoublingDuringACompaction_EndsIt_AndForgetsTheFreeList));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        long next = 0;
        ChurnUntilSameSizeGrowth(map, rng, ref next);
        int b = map.GetStats().B;
        for (int i = 0; map.GetStats().B == b; i++)
        {
            map[next++] = 0; // grow past the load factor
            if (i % 256 == 0)
            {
                map.CheckInvariants();
            }
        }
        while (map.GetStats().IsGrowing)
        {
            map[next++] = 0;
        }
        map.CheckInvariants();
        Assert.That(map.GetStats().B, Is.EqualTo(b + 1));
    }
}
