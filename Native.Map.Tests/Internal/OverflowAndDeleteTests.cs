using Native.Map.Core;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

public sealed class OverflowAndDeleteTests : LeakCheckedTest
{
    [Test]
    public void PreallocatedOverflow_IsUsedBeforeAnyAllocation_ThenChunksWithTheSentinelRule()
    {
        // B = 8: the array has 256 buckets plus a preallocated tail.
        using var map = new NativeMap<long, long>(1000, null, fixedHash0: 1);
        MapDebugState s0 = map.GetDebugState();
        long tail = s0.ArrayBucketCount - 256;
        Assert.That(tail, Is.GreaterThanOrEqualTo(16));
        // Fill bucket 0's chain far beyond one bucket: each 8 keys need one overflow bucket.
        List<long> keys = Collisions.KeysInBucket(map, 8, 0, (int)(tail + 2) * 8);
        long nativeBefore = map.GetStats().NativeBytes;
        int used = 0;
        for (int i = 0; i < keys.Count; i++)
        {
            map[keys[i]] = i;
            int overflow = (int)map.GetStats().OverflowBucketCount;
            if (overflow == used)
            {
                continue;
            }
            used = overflow;
            MapDebugState s = map.GetDebugState();
            if (used <= tail)
            {
                Assert.That(s.OverflowChunks, Is.Zero, $"overflow bucket {used} comes from the preallocated tail");
                Assert.That(map.GetStats().NativeBytes, Is.EqualTo(nativeBefore), "no allocation while the tail lasts");
                Assert.That(s.NextOverflow, Is.EqualTo(used == tail ? 0 : s.Buckets + (256 + used) * 144), "bump pointer, null after the sentinel bucket");
            }
            else
            {
                Assert.That(s.OverflowChunks, Is.EqualTo(1), "then a chunk");
                Assert.That(map.GetStats().NativeBytes, Is.GreaterThan(nativeBefore));
            }
        }
        Assert.That(map.IsInPreallocatedTail(map.FirstOverflowOf(0)), Is.True);
        Assert.That(used, Is.EqualTo(tail + 1));
        map.CheckInvariants();
        for (int i = 0; i < keys.Count; i++)
        {
            Assert.That(map[keys[i]], Is.EqualTo(i));
        }
    }

    [Test]
    public void Delete_LastLiveCell_WalksBackEmptyRestAcrossOverflowBuckets()
    {
        using var map = new NativeMap<long, long>(100, null, fixedHash0: 3); // B = 4
        List<long> keys = Collisions.KeysInBucket(map, 4, 5, 20);           // bucket 5: 8 + 8 + 4
        foreach (long k in keys)
        {
            map[k] = k;
        }
        List<byte[]> chain = map.GetChainTopHashes(5);
        Assert.That(chain, Has.Count.EqualTo(3));
        Assert.That(chain[2][4], Is.EqualTo(MapConstants.EmptyRest));

        // Delete a middle cell: it becomes emptyOne (live cells follow).
        map.Remove(keys[3]);
        Assert.That(map.GetChainTopHashes(5)[0][3], Is.EqualTo(MapConstants.EmptyOne));

        // Delete everything in the last two buckets from the end backwards except the first cell of
        // bucket 1: each trailing delete turns its cell into emptyRest.
        for (int i = 19; i >= 9; i--)
        {
            map.Remove(keys[i]);
            map.CheckInvariants();
        }
        chain = map.GetChainTopHashes(5);
        Assert.That(chain[1][0], Is.GreaterThanOrEqualTo(MapConstants.MinTopHash));
        Assert.That(chain[1].Skip(1), Is.All.EqualTo(MapConstants.EmptyRest));
        Assert.That(chain[2], Is.All.EqualTo(MapConstants.EmptyRest));

        // Now delete keys[2] and keys[4..7] (leaving keys[3] already gone): cells 2..7 of bucket 0 are
        // emptyOne, but bucket 1 still has a live cell, so nothing becomes emptyRest yet.
        foreach (int i in new[] { 2, 4, 5, 6, 7 })
        {
            map.Remove(keys[i]);
        }
        chain = map.GetChainTopHashes(5);
        Assert.That(chain[0].Skip(2), Is.All.EqualTo(MapConstants.EmptyOne));

        // Deleting the last live cell of bucket 1 walks back into bucket 0: cells 2..7 become
        // emptyRest, keys[0] and keys[1] stay.
        map.Remove(keys[8]);
        chain = map.GetChainTopHashes(5);
        Assert.That(chain[1], Is.All.EqualTo(MapConstants.EmptyRest));
        Assert.That(chain[0].Skip(2), Is.All.EqualTo(MapConstants.EmptyRest));
        Assert.That(chain[0][0], Is.GreaterThanOrEqualTo(MapConstants.MinTopHash));
        map.CheckInvariants();
        Assert.That(map.Count, Is.EqualTo(2));
        Assert.That(map.ContainsKey(keys[0]) && map.ContainsKey(keys[1]), Is.True);
    }

    [Test]
    public void Insert_ReusesTheFirstEmptyCellOfTheChain()
    {
        using var map = new NativeMap<long, long>(100, null, fixedHash0: 3);
        List<long> keys = Collisions.KeysInBucket(map, 4, 2, 12);
        foreach (long k in keys.Take(10))
        {
            map[k] = k;
        }
        map.Remove(keys[1]);
        map[keys[10]] = 10;
        Assert.That(map.GetChainTopHashes(2)[0][1], Is.GreaterThanOrEqualTo(MapConstants.MinTopHash), "the hole at cell 1 is reused");
        Assert.That(map.GetStats().OverflowBucketCount, Is.EqualTo(1));
        map.CheckInvariants();
    }

    [Test]
    public void Remove_ClearsTheSlotAndReturnsTheValue()
    {
        using var map = new NativeMap<long, long>();
        map[10] = 100;
        Assert.That(map.Remove(10, out long v), Is.True);
        Assert.That(v, Is.EqualTo(100));
        Assert.That(map.Remove(10, out v), Is.False);
        Assert.That(v, Is.Zero);
    }

    [Test]
    public void IndirectSlots_FreedOnRemoveClearAndDispose()
    {
        long start = NativeMapMemory.LiveBytes;
        var map = new NativeMap<Big200, Big320>();
        for (int i = 0; i < 100; i++)
        {
            map[new Big200(i)] = new Big320(i);
        }
        long full = map.GetStats().NativeBytes;
        map.Remove(new Big200(5));
        Assert.That(map.GetStats().NativeBytes, Is.EqualTo(full - 200 - 320));
        map.CheckInvariants();
        map.Clear();
        Assert.That(map.GetStats().NativeBytes, Is.LessThan(full - 99 * 520 + 1));
        map.CheckInvariants();
        map[new Big200(1)] = new Big320(1);
        Assert.That(map[new Big200(1)], Is.EqualTo(new Big320(1)));
        map.Dispose();
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(start));
    }

    [Test]
    public void Clear_KeepsTheBucketArray_SoRefillingDoesNotGrow()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 10_000; i++)
        {
            map[i] = i;
        }
        while (map.GetStats().IsGrowing)
        {
            map[-1] = 0;
            map.Remove(-1);
        }
        MapDebugState before = map.GetDebugState();
        long growths = map.GetStats().GrowthsStarted;
        map.Clear();
        MapDebugState after = map.GetDebugState();
        Assert.That(after.Buckets, Is.EqualTo(before.Buckets));
        Assert.That(after.B, Is.EqualTo(before.B));
        Assert.That(after.Hash0, Is.Not.EqualTo(before.Hash0), "Clear re-seeds");
        for (long i = 0; i < 10_000; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().GrowthsStarted, Is.EqualTo(growths));
        map.CheckInvariants();
    }

    [Test]
    public void Clear_InTheMiddleOfAGrowth_DropsTheOldArray()
    {
        using var map = new NativeMap<long, long>(52);
        for (long i = 0; i < 53; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().IsGrowing, Is.True);
        map.Clear();
        Assert.That(map.GetStats().IsGrowing, Is.False);
        Assert.That(map.GetStats().NativeBytes, Is.EqualTo((long)NativeMap<long, long>.ArrayBytes(4) + 24));
        map.CheckInvariants();
    }

    [Test]
    public void RemovingTheLastEntry_ReSeedsTheHash()
    {
        using var map = new NativeMap<long, long>();
        map[1] = 1;
        map[2] = 2;
        uint seed = map.GetDebugState().Hash0;
        map.Remove(1);
        Assert.That(map.GetDebugState().Hash0, Is.EqualTo(seed));
        map.Remove(2);
        Assert.That(map.GetDebugState().Hash0, Is.Not.EqualTo(seed));
    }

    [Test]
    public void Seeds_DifferBetweenMaps()
    {
        var seeds = new HashSet<uint>();
        for (int i = 0; i < 64; i++)
        {
            using var map = new NativeMap<long, long>();
            seeds.Add(map.GetDebugState().Hash0);
        }
        Assert.That(seeds, Has.Count.GreaterThan(60));
    }
}
