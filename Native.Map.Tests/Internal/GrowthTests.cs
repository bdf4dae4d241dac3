using Native.Map.Core;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

public sealed class GrowthTests : LeakCheckedTest
{
    [Test]
    public void NinthInsert_StartsDoubling_FromOneBucketToTwo()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 8; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats(), Has.Property(nameof(NativeMapStats.B)).EqualTo(0).And.Property(nameof(NativeMapStats.IsGrowing)).False);
        map[8] = 8;
        NativeMapStats s = map.GetStats();
        // B 0 -> 1 is a doubling; with one old bucket it is evacuated by the same insert.
        Assert.That(s.B, Is.EqualTo(1));
        Assert.That(s.GrowthsStarted, Is.EqualTo(1));
        map.CheckInvariants();
    }

    /// <summary>
    /// EnsureCapacity on a non-empty map schedules doublings one at a time; plain inserts that follow
    /// (no growth trigger of their own) must keep starting them until B reaches the target.
    /// </summary>
    [Test]
    public void EnsureCapacity_OnANonEmptyMap_PlainInsertsKeepDoublingUpToTheTarget()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 100; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().B, Is.EqualTo(4));
        Assert.That(map.EnsureCapacity(10_000), Is.GreaterThanOrEqualTo(10_000));
        // Removes of absent keys finish the first doubling without starting the next (deletes never
        // start growth), so the next insert finds a plain array below its target.
        for (long i = -1; map.GetStats().IsGrowing; i--)
        {
            Assert.That(map.Remove(i), Is.False);
        }
        Assert.That(map.GetStats().B, Is.EqualTo(5));
        map[1_000_000] = 1;
        Assert.That(map.GetStats().IsGrowing, Is.True, "the insert starts the next scheduled doubling");
        Assert.That(map.GetStats().B, Is.EqualTo(6));
        for (long i = 100; i < 3_100; i++)
        {
            map[i * 7_919] = i; // 3,100 entries alone would stop at B = 9
        }
        NativeMapStats s = map.GetStats();
        Assert.That(s.B, Is.EqualTo(11), "6.5 x 2^11 is the first array that holds 10,000");
        Assert.That(s.IsGrowing, Is.False);
        map.CheckInvariants();
    }

    /// <summary>
    /// The load-factor hook changed on a map that already has an array (as the loadfactor table does):
    /// the doubling starts at the new load factor, not at the one the array was sized for.
    /// </summary>
    [TestCase(4.0, 64)]
    [TestCase(8.0, 128)]
    public void MaxLoadFactor_SetAfterPresizing_DoublingStartsAtTheNewLimit(double loadFactor, int holds)
    {
        using var map = new NativeMap<long, long>(104); // 6.5 x 2^4
        Assert.That(map.GetStats().B, Is.EqualTo(4));
        map.MaxLoadFactor = loadFactor;
        for (long i = 0; i < holds; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().GrowthsStarted, Is.Zero, $"{holds} entries fit 16 buckets at load factor {loadFactor}");
        map.CheckInvariants();
        map[holds] = holds;
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(1), "one more starts the doubling");
        Assert.That(map.GetStats().B, Is.EqualTo(5));
        map.CheckInvariants();
    }

    [Test]
    public void Insert53_IntoB3_Doubles_AndEvacuatesTheTouchedBucketPlusKPerWrite()
    {
        // Each write evacuates the old bucket it touches and K more from nevacuate on (Go: K = 1).
        const int k = Native.Map.Core.MapConstants.SequentialEvacuationsPerWrite;
        using var map = new NativeMap<long, long>(52);
        for (long i = 0; i < 52; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().B, Is.EqualTo(3));
        Assert.That(map.GetStats().IsGrowing, Is.False);
        map[52] = 52;
        NativeMapStats s = map.GetStats();
        Assert.That(s.B, Is.EqualTo(4));
        Assert.That(s.IsGrowing, Is.True);
        Assert.That(EvacuatedOldBuckets(map), Is.InRange(Math.Min(8, k), Math.Min(8, k + 1)), "the insert evacuates the bucket it uses plus K in order");
        map.CheckInvariants();
        int writes = 0;
        int previous = EvacuatedOldBuckets(map);
        for (long i = 1000; map.GetStats().IsGrowing; i++)
        {
            map[i] = i;
            writes++;
            int now = map.GetStats().IsGrowing ? EvacuatedOldBuckets(map) : 8;
            Assert.That(now - previous, Is.InRange(Math.Min(k, 8 - previous), k + 1), "a write evacuates K in order (all that are left, if fewer) plus the one it touches");
            previous = now;
            map.CheckInvariants();
        }
        // After the first write's K or K + 1, each write takes at least K more.
        int most = (8 - Math.Min(8, k) + k - 1) / k;
        int least = (8 - Math.Min(8, k + 1) + k) / (k + 1);
        Assert.That(writes, Is.InRange(least, most), "8 old buckets took more or fewer writes than K per write allows");
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(1));
        for (long i = 0; i < 53; i++)
        {
            Assert.That(map[i], Is.EqualTo(i));
        }
    }

    [Test]
    public void LookupsDuringGrowth_FindEntriesInOldAndNewArrays()
    {
        using var map = new NativeMap<long, long>(52_000);
        int n = (int)NativeMap<long, long>.CapacityFor((byte)map.GetStats().B);
        for (long i = 0; i <= n; i++)
        {
            map[i] = ~i;
        }
        Assert.That(map.GetStats().IsGrowing, Is.True);
        for (long i = 0; i <= n; i++)
        {
            Assert.That(map[i], Is.EqualTo(~i));
        }
        map.CheckInvariants();
    }

    [Test]
    public void Deletes_DoGrowthWorkToo()
    {
        using var map = new NativeMap<long, long>(52);
        for (long i = 0; i < 53; i++)
        {
            map[i] = i;
        }
        int deletes = 0;
        while (map.GetStats().IsGrowing)
        {
            Assert.That(map.Remove(deletes), Is.True);
            deletes++;
            map.CheckInvariants();
        }
        // The doubling's first write moved K or K + 1 of the 8 old buckets; each delete moves K more.
        const int k = Native.Map.Core.MapConstants.SequentialEvacuationsPerWrite;
        Assert.That(deletes, Is.InRange((8 - Math.Min(8, k + 1) + k) / (k + 1), (8 - Math.Min(8, k) + k - 1) / k));
        Assert.That(map.Count, Is.EqualTo(53 - deletes));
    }

    [Test]
    public void Growth_ReleasesTheOldArray_TheMomentTheLastBucketMoves()
    {
        using var map = new NativeMap<long, long>(52_000);
        byte b = (byte)map.GetStats().B;
        long n = NativeMap<long, long>.CapacityFor(b);
        for (long i = 0; i <= n; i++)
        {
            map[i] = i;
        }
        long oldArray = (long)NativeMap<long, long>.ArrayBytes(b);
        Assert.That(map.GetStats().IsGrowing, Is.True);
        long i2 = n + 1;
        long bytesBefore;
        do
        {
            bytesBefore = map.GetStats().NativeBytes;
            map[i2++] = 0;
        }
        while (map.GetStats().IsGrowing);
        long bytesAfter = map.GetStats().NativeBytes;
        Assert.That(bytesBefore - bytesAfter, Is.GreaterThanOrEqualTo(oldArray - 144 * 4096), "old array freed by the write that finished the growth");
        map.CheckInvariants();
    }

    [Test]
    public void XYSplit_EntriesGoToTheHalfOfTheirNewHashBit()
    {
        using var map = new NativeMap<long, long>(52, null, fixedHash0: 42);
        for (long i = 0; i < 53; i++)
        {
            map[i] = i;
        }
        // Growth B 3 -> 4 in progress. Finish it with lookups only? No: lookups do no growth work.
        Assert.That(map.GetStats().IsGrowing, Is.True);
        for (long i = 53; map.GetStats().IsGrowing; i++)
        {
            map[i] = i;
        }
        // Every key sits in bucket hash & 15: bucket j or j + 8 of its old bucket j = hash & 7.
        map.CheckInvariants();
        for (long i = 0; i < 53; i++)
        {
            ulong h = map.HashOf(i);
            ulong oldBucket = h & 7;
            ulong newBucket = h & 15;
            Assert.That(newBucket == oldBucket || newBucket == oldBucket + 8, Is.True);
        }
    }

    [Test]
    public void EvacuatedOldChain_KeepsEntriesMarkedXOrY()
    {
        using var map = new NativeMap<long, long>(52, null, fixedHash0: 7);
        for (long i = 0; i < 53; i++)
        {
            map[i] = i;
        }
        MapDebugState s = map.GetDebugState();
        Assert.That(s.OldBuckets, Is.Not.EqualTo((nint)0));
        int marks = 0;
        for (int j = 0; j < 8; j++)
        {
            List<byte[]> chain = map.GetChainTopHashes(j, old: true);
            bool evacuated = chain[0][0] is MapConstants.EvacuatedX or MapConstants.EvacuatedY or MapConstants.EvacuatedEmpty;
            foreach (byte[] bucket in chain)
            {
                foreach (byte t in bucket)
                {
                    Assert.That(evacuated ? t is >= 2 and <= 4 : t is < 2 or >= 5, Is.True, $"old bucket {j}: all or none evacuated");
                    marks += t is MapConstants.EvacuatedX or MapConstants.EvacuatedY ? 1 : 0;
                }
            }
        }
        Assert.That(marks, Is.GreaterThan(0));
    }

    [Test]
    public void EnsureCapacity_OnEmptyMap_ReplacesTheArrayAtOnce()
    {
        using var map = new NativeMap<long, long>();
        int cap = map.EnsureCapacity(1000);
        Assert.That(cap, Is.GreaterThanOrEqualTo(1000));
        Assert.That(map.GetStats().B, Is.EqualTo(8));
        Assert.That(map.GetStats().GrowthsStarted, Is.Zero);
        for (long i = 0; i < 1000; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().GrowthsStarted, Is.Zero);
        Assert.That(map.EnsureCapacity(10), Is.EqualTo(cap), "a smaller request changes nothing");
    }

    [Test]
    public void EnsureCapacity_OnFullMap_DoublesIncrementallyUntilReached()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 100; i++)
        {
            map[i] = i;
        }
        int b0 = map.GetStats().B;
        long growthsBefore = map.GetStats().GrowthsStarted;
        int cap = map.EnsureCapacity(100_000);
        Assert.That(cap, Is.GreaterThanOrEqualTo(100_000));
        Assert.That(map.GetStats().IsGrowing, Is.True, "one doubling starts at once");
        Assert.That(map.GetStats().B, Is.EqualTo(b0 + 1));
        for (long i = 100; map.GetStats().B < 14 || map.GetStats().IsGrowing; i++)
        {
            map[i] = i;
            Assert.That(i, Is.LessThan(100_000), "growth toward the requested capacity must make progress");
        }
        Assert.That(map.GetStats().B, Is.EqualTo(14));
        Assert.That(map.GetStats().GrowthsStarted - growthsBefore, Is.EqualTo(14 - b0));
        map.CheckInvariants();
        long g = map.GetStats().GrowthsStarted;
        for (long i = 0; i < 100_000; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(g), "the capacity promised is there");
    }

    [Test]
    public void SameSizeGrowth_UnderChurnAtConstantSize_ShedsOverflowWithoutDoubling()
    {
        int seed = TestSeed.Next(nameof(SameSizeGrowth_UnderChurnAtConstantSize_ShedsOverflowWithoutDoubling));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        var live = new List<long>();
        long next = 0;
        for (; next < 3000; next++)
        {
            map[next] = next;
            live.Add(next);
        }
        int b = map.GetStats().B;
        long doublingsBefore = map.GetStats().GrowthsStarted - map.GetStats().SameSizeGrowthsStarted;
        long maxBytes = 0;
        for (int op = 0; op < 400_000; op++)
        {
            int victim = rng.Next(live.Count);
            Assert.That(map.Remove(live[victim]), Is.True);
            live[victim] = next;
            map[next] = next;
            next++;
            maxBytes = Math.Max(maxBytes, map.GetStats().NativeBytes);
        }
        NativeMapStats s = map.GetStats();
        Assert.That(s.SameSizeGrowthsStarted, Is.GreaterThan(0), "churn leaves sparse overflow chains that a same-size growth compacts");
        Assert.That(s.GrowthsStarted - s.SameSizeGrowthsStarted, Is.EqualTo(doublingsBefore), "no doubling at constant size");
        Assert.That(s.B, Is.EqualTo(b));
        Assert.That(s.Count, Is.EqualTo(3000));
        Assert.That(maxBytes, Is.LessThan(4 * (long)NativeMap<long, long>.ArrayBytes((byte)b)), "memory stays bounded");
        map.CheckInvariants();
        foreach (long k in live)
        {
            Assert.That(map[k], Is.EqualTo(k));
        }
    }

    private static int EvacuatedOldBuckets(NativeMap<long, long> map)
    {
        int n = 0;
        int oldBuckets = (int)map.GetStats().OldBucketCount;
        for (int j = 0; j < oldBuckets; j++)
        {
            byte t = map.GetChainTopHashes(j, old: true)[0][0];
            n += t is > MapConstants.EmptyOne and < MapConstants.MinTopHash ? 1 : 0;
        }
        return n;
    }
}
