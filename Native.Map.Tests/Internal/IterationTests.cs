using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

/// <summary>Go's iteration contract, including growth during iteration and enumerator lifetimes.</summary>
public sealed class IterationTests : LeakCheckedTest
{
    [Test]
    public void StartOrder_IsRandomized()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 100; i++)
        {
            map[i] = i;
        }
        var firsts = new HashSet<long>();
        for (int r = 0; r < 50; r++)
        {
            foreach (KeyValuePair<long, long> kv in map)
            {
                firsts.Add(kv.Key);
                break;
            }
        }
        Assert.That(firsts, Has.Count.GreaterThan(10));
    }

    [Test]
    public void GrowingSeveralTimesInsideOneForeach_SurvivorsExactlyOnce_RemovedNotReturned()
    {
        int seed = TestSeed.Next(nameof(GrowingSeveralTimesInsideOneForeach_SurvivorsExactlyOnce_RemovedNotReturned));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        const int initial = 200;
        for (long i = 0; i < initial; i++)
        {
            map[i] = i;
        }
        var removed = new HashSet<long>();
        var returned = new Dictionary<long, int>();
        long next = 1_000_000;
        int startB = map.GetStats().B;
        foreach (KeyValuePair<long, long> kv in map)
        {
            returned[kv.Key] = returned.GetValueOrDefault(kv.Key) + 1;
            Assert.That(removed.Contains(kv.Key), Is.False, "a removed entry was returned");
            if (kv.Key < initial)
            {
                Assert.That(kv.Value, Is.EqualTo(kv.Key));
            }
            // Insert plenty: the map grows several times during this loop.
            for (int j = 0; j < 40; j++)
            {
                map[next++] = 0;
            }
            // Remove some original entries not yet returned.
            long victim = rng.Next(initial);
            if (!returned.ContainsKey(victim) && map.Remove(victim))
            {
                removed.Add(victim);
            }
        }
        Assert.That(map.GetStats().B, Is.GreaterThanOrEqualTo(startB + 3), "the map grew several times during the enumeration");
        for (long i = 0; i < initial; i++)
        {
            if (!removed.Contains(i))
            {
                Assert.That(returned.GetValueOrDefault(i), Is.EqualTo(1), $"survivor {i} returned exactly once");
            }
        }
        Assert.That(returned.Values, Is.All.EqualTo(1), "nothing returned twice");
        map.CheckInvariants();
    }

    [Test]
    public void UpdatedDuringIteration_ReturnsTheCurrentValue_EvenAfterGrowth()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 1000; i++)
        {
            map[i] = i;
        }
        using NativeMap<long, long>.Enumerator e = map.GetEnumerator();
        Assert.That(e.MoveNext(), Is.True);
        var seen = new HashSet<long> { e.Current.Key };
        for (long i = 0; i < 1000; i++)
        {
            map[i] = -i; // overwrite
        }
        for (long i = 1000; i < 20_000; i++)
        {
            map[i] = 5; // grow a few times
        }
        while (e.MoveNext())
        {
            if (e.Current.Key < 1000)
            {
                Assert.That(seen.Add(e.Current.Key), Is.True);
                Assert.That(e.Current.Value, Is.EqualTo(-e.Current.Key), "current value, not the stale one");
            }
        }
        Assert.That(seen, Has.Count.EqualTo(1000));
    }

    /// <summary>Keys 0 .. n-1 (value = key) in a map sized for 5,000 and one key past its doubling point, so a doubling has just started.</summary>
    private static NativeMap<long, long> MapJustPastADoubling(out long n)
    {
        var map = new NativeMap<long, long>(5000);
        n = NativeMap<long, long>.CapacityFor((byte)map.GetStats().B) + 1;
        for (long i = 0; i < n; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetStats().IsGrowing, Is.True);
        return map;
    }

    [Test]
    public void IterationStartedMidGrowth_WithInsertsAndDeletes_KeepsTheContract()
    {
        int seed = TestSeed.Next(nameof(IterationStartedMidGrowth_WithInsertsAndDeletes_KeepsTheContract));
        var rng = new Random(seed);
        for (int round = 0; round < 20; round++)
        {
            using NativeMap<long, long> map = MapJustPastADoubling(out long n);
            var removed = new HashSet<long>();
            var reinserted = new HashSet<long>();
            var returned = new HashSet<long>();
            long next = n;
            foreach (KeyValuePair<long, long> kv in map)
            {
                Assert.That(returned.Add(kv.Key), Is.True, $"{kv.Key} returned twice");
                Assert.That(removed.Contains(kv.Key), Is.False);
                switch (rng.Next(4))
                {
                    case 0:
                        map[next++] = 1;
                        break;
                    case 1:
                        long victim = rng.NextInt64(n);
                        if (!returned.Contains(victim) && map.Remove(victim))
                        {
                            removed.Add(victim);
                        }
                        break;
                    case 2:
                        // Delete then re-insert a not-yet-returned key: removed and added during
                        // the iteration, so it may be returned (once) or not.
                        long k = rng.NextInt64(n);
                        if (!removed.Contains(k) && !returned.Contains(k) && map.Remove(k))
                        {
                            map[k] = 7;
                            reinserted.Add(k);
                        }
                        break;
                }
            }
            for (long i = 0; i < n; i++)
            {
                if (!removed.Contains(i) && !reinserted.Contains(i))
                {
                    Assert.That(returned.Contains(i), Is.True, $"round {round}: survivor {i} missing");
                }
            }
            map.CheckInvariants();
        }
    }

    /// <summary>
    /// The batched writes inside a <c>foreach</c> started mid-growth, as single writes are allowed
    /// there: <c>RemoveKeys</c> of keys not yet returned (and some already returned), <c>SetValues</c>
    /// of new keys (which keep the map doubling). Removed keys are never returned afterwards,
    /// survivors exactly once.
    /// </summary>
    [Test]
    public void BatchedWritesDuringIteration_KeepTheContract()
    {
        int seed = TestSeed.Next(nameof(BatchedWritesDuringIteration_KeepTheContract));
        var rng = new Random(seed);
        for (int round = 0; round < 10; round++)
        {
            using NativeMap<long, long> map = MapJustPastADoubling(out long n);
            var removed = new HashSet<long>();
            var returned = new HashSet<long>();
            long next = n;
            foreach (KeyValuePair<long, long> kv in map)
            {
                Assert.That(returned.Add(kv.Key), Is.True, $"seed {seed}, round {round}: {kv.Key} returned twice");
                Assert.That(removed.Contains(kv.Key), Is.False, $"seed {seed}, round {round}: {kv.Key} returned after RemoveKeys removed it");
                switch (rng.Next(8))
                {
                    case 0:
                        long[] victims = [.. Enumerable.Range(0, 40).Select(_ => rng.NextInt64(n))];
                        var flags = new bool[victims.Length];
                        map.RemoveKeys(victims, flags);
                        for (int j = 0; j < victims.Length; j++)
                        {
                            if (flags[j])
                            {
                                Assert.That(removed.Add(victims[j]), Is.True, $"seed {seed}: {victims[j]} removed twice");
                            }
                        }
                        break;
                    case 1:
                        long[] fresh = [.. Enumerable.Range(0, 60).Select(j => next + j)];
                        next += fresh.Length;
                        map.SetValues(fresh, fresh);
                        break;
                }
            }
            for (long i = 0; i < n; i++)
            {
                if (!removed.Contains(i))
                {
                    Assert.That(returned.Contains(i), Is.True, $"seed {seed}, round {round}: survivor {i} missing");
                }
                Assert.That(map.ContainsKey(i), Is.EqualTo(!removed.Contains(i)));
            }
            map.CheckInvariants();
        }
    }

    [Test]
    public void AbandonedEnumerator_PinsItsArrays_FreedWhenTheMapIsDisposed()
    {
        long start = NativeMapMemory.LiveBytes;
        var map = new NativeMap<long, long>();
        for (long i = 0; i < 1000; i++)
        {
            map[i] = i;
        }
        NativeMap<long, long>.Enumerator e = map.GetEnumerator();
        Assert.That(e.MoveNext(), Is.True);
        for (long i = 1000; i < 50_000; i++)
        {
            map[i] = i; // several growths; the array e walks must not be freed
        }
        MapDebugState s = map.GetDebugState();
        Assert.That(s.LiveIterators, Is.EqualTo(1));
        Assert.That(s.RetiredTables, Is.GreaterThanOrEqualTo(1), "the enumerator's array was retired, not freed");
        map.CheckInvariants();
        // The abandoned enumerator still works and keeps the contract for the original entries.
        var seen = new HashSet<long> { e.Current.Key };
        while (e.MoveNext())
        {
            Assert.That(seen.Add(e.Current.Key), Is.True);
        }
        Assert.That(Enumerable.Range(0, 1000).All(i => seen.Contains(i)), Is.True);
        Assert.That(map.GetDebugState().RetiredTables, Is.Zero, "finishing releases the pins");
        NativeMap<long, long>.Enumerator abandoned = map.GetEnumerator();
        abandoned.MoveNext();
        for (long i = 50_000; i < 200_000; i++)
        {
            map[i] = i;
        }
        map.Dispose();
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(start));
        Assert.Throws<ObjectDisposedException>(() => abandoned.MoveNext());
    }

    [Test]
    public void DisposingOneCopy_InvalidatesTheOther()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 100; i++)
        {
            map[i] = i;
        }
        NativeMap<long, long>.Enumerator a = map.GetEnumerator();
        a.MoveNext();
        NativeMap<long, long>.Enumerator b = a;
        a.Dispose();
        Assert.That(a.MoveNext(), Is.False);
        Assert.Throws<InvalidOperationException>(() => b.MoveNext());
        Assert.That(map.GetDebugState().LiveIterators, Is.Zero);
    }

    [Test]
    public void ClearDuringIteration_ReturnsNothingRemoved()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 5000; i++)
        {
            map[i] = i;
        }
        for (long i = 5000; i < 5200; i++)
        {
            map[i] = i; // leave a growth in progress
        }
        int after = 0;
        bool cleared = false;
        foreach (KeyValuePair<long, long> kv in map)
        {
            if (cleared)
            {
                Assert.That(kv.Key, Is.GreaterThanOrEqualTo(100_000), "only entries added after Clear may appear");
                after++;
                continue;
            }
            map.Clear();
            cleared = true;
            map[100_000] = 1;
        }
        Assert.That(after, Is.LessThanOrEqualTo(1));
        map.CheckInvariants();
    }

    [Test]
    public void IndirectKeys_DeletedDuringIterationAcrossGrowth_NeverFollowAFreedPointer()
    {
        using var map = new NativeMap<Big200, long>();
        for (int i = 0; i < 300; i++)
        {
            map[new Big200(i)] = i;
        }
        var returned = new HashSet<long>();
        var removed = new HashSet<long>();
        int next = 1000;
        foreach (KeyValuePair<Big200, long> kv in map)
        {
            Assert.That(returned.Add(kv.Key.Seed), Is.True);
            Assert.That(removed.Contains(kv.Key.Seed), Is.False);
            for (int j = 0; j < 10; j++)
            {
                map[new Big200(next++)] = 0;
            }
            // Delete entries that have been evacuated (stale copies in the old or retired arrays).
            for (int v = 0; v < 300; v += 7)
            {
                if (!returned.Contains(v) && map.Remove(new Big200(v)))
                {
                    removed.Add(v);
                }
            }
        }
        for (int i = 0; i < 300; i++)
        {
            Assert.That(returned.Contains(i) || removed.Contains(i), Is.True, $"survivor {i}");
        }
        map.CheckInvariants();
    }

    [Test]
    public void EnumeratingAnEmptyOrDisposedMap()
    {
        var map = new NativeMap<long, long>();
        Assert.That(map.Any(), Is.False);
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.GetEnumerator());
        Assert.That(default(NativeMap<long, long>.Enumerator).MoveNext(), Is.False);
    }

    [Test]
    public void KeysAndValuesViews_AreLive()
    {
        using var map = new NativeMap<long, long>();
        NativeMap<long, long>.KeyCollection keys = map.Keys;
        map[3] = 30;
        map[4] = 40;
        Assert.That(keys, Is.EquivalentTo(new long[] { 3, 4 }));
        Assert.That(map.Values, Is.EquivalentTo(new long[] { 30, 40 }));
        Assert.That(map.ContainsValue(40), Is.True);
        Assert.That(map.ContainsValue(41), Is.False);
        Assert.That(ReferenceEquals(keys, map.Keys), Is.True);
    }
}
