using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Iteration;

/// <summary>
/// Iteration across growth, removal and overwrite (Go's rules): survivors exactly once, nothing
/// removed before being reached, current values, re-inserted keys ending with their new values;
/// growth several times inside one foreach; enumerators abandoned without Dispose.
/// </summary>
[TestFixture]
[Category("Iteration")]
public sealed class IterationReliabilityTests : LeakCheckedTest
{
    /// <summary>Checks one foreach against a model: returned entries are live with their current value; untouched originals come exactly once.</summary>
    private static void ForeachChecked(NativeMap<long, long> map, Dictionary<long, long> model, Action<long, int, HashSet<long>> mutate)
    {
        var atStart = new HashSet<long>(model.Keys);
        var touched = new HashSet<long>();
        var seen = new Dictionary<long, int>();
        int step = 0;
        foreach (KeyValuePair<long, long> kv in map)
        {
            Assert.That(model.TryGetValue(kv.Key, out long live), Is.True, $"step {step}: returned {kv.Key}, which is not in the map");
            Assert.That(kv.Value, Is.EqualTo(live), $"step {step}: stale value for {kv.Key}");
            seen[kv.Key] = seen.GetValueOrDefault(kv.Key) + 1;
            Assert.That(seen[kv.Key] == 1 || touched.Contains(kv.Key), Is.True, $"{kv.Key} returned twice");
            mutate(kv.Key, step++, touched);
        }
        foreach (long k in atStart.Where(k => !touched.Contains(k)))
        {
            Assert.That(seen.GetValueOrDefault(k), Is.EqualTo(1), $"{k} was there all along but returned {seen.GetValueOrDefault(k)} times");
        }
        map.CheckInvariants();
        Assert.That(map.Count, Is.EqualTo(model.Count));
    }

    [Test]
    public void Foreach_GrowsSeveralTimesInsideOneLoop_OriginalsExactlyOnce()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            var model = new Dictionary<long, long>();
            for (long i = 0; i < 100; i++)
            {
                map[i] = i;
                model[i] = i;
            }
            long growthsBefore = map.GetStats().GrowthsStarted;
            int bBefore = map.GetStats().B;
            long next = 1_000_000;
            ForeachChecked(map, model, (k, step, touched) =>
            {
                for (int j = 0; j < 60 && next < 1_030_000; j++, next++)
                {
                    map[next] = -next;
                    model[next] = -next;
                    touched.Add(next);
                }
            });
            TestContext.Out.WriteLine($"B {bBefore} -> {map.GetStats().B}, {map.GetStats().GrowthsStarted - growthsBefore} growths inside one foreach");
            Assert.That(map.GetStats().GrowthsStarted - growthsBefore, Is.GreaterThanOrEqualTo(4), "the loop did not grow the map several times");
            Assert.That(map.GetDebugState().RetiredTables, Is.EqualTo(0), "tables stayed retired after the enumeration ended");
        }
        alloc.AssertClean();
    }

    [Test]
    public void Foreach_RemovingAhead_NeverReturnsRemovedKeys()
    {
        int seed = TestSeed.Next(nameof(Foreach_RemovingAhead_NeverReturnsRemovedKeys));
        var rng = new Random(seed);
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            var model = new Dictionary<long, long>();
            for (long i = 0; i < 5000; i++)
            {
                map[i] = i;
                model[i] = i;
            }
            ForeachChecked(map, model, (k, step, touched) =>
            {
                for (int j = 0; j < 3; j++)
                {
                    long victim = rng.Next(5000);
                    if (model.Remove(victim))
                    {
                        Assert.That(map.Remove(victim), Is.True);
                        touched.Add(victim);
                    }
                }
            });
        }
        alloc.AssertClean();
    }

    [Test]
    public void Foreach_OverwritingAhead_ReturnsCurrentValues_ReinsertedKeysEndWithNewValues()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            var model = new Dictionary<long, long>();
            for (long i = 0; i < 3000; i++)
            {
                map[i] = i;
                model[i] = i;
            }
            var reinserted = new Dictionary<long, long>();
            ForeachChecked(map, model, (k, step, touched) =>
            {
                long other = (k * 7919) % 3000;
                if (model.ContainsKey(other))
                {
                    map[other] = model[other] = other + 1_000_000 + step; // overwrite: still exactly once
                }
                if (step % 5 == 0)
                {
                    long r = (k * 31) % 3000;
                    if (model.Remove(r))
                    {
                        Assert.That(map.Remove(r), Is.True);
                        map[r] = model[r] = -r - 7;
                        reinserted[r] = -r - 7;
                        touched.Add(r);
                    }
                }
                if (step % 50 == 0)
                {
                    for (long g = 0; g < 200; g++)
                    {
                        map[10_000 + (step * 200L) + g] = model[10_000 + (step * 200L) + g] = g; // growth while overwriting
                        touched.Add(10_000 + (step * 200L) + g);
                    }
                }
            });
            foreach (KeyValuePair<long, long> kv in reinserted)
            {
                if (model.TryGetValue(kv.Key, out long v))
                {
                    Assert.That(map[kv.Key], Is.EqualTo(v), $"re-inserted key {kv.Key}");
                }
            }
        }
        alloc.AssertClean();
    }

    /// <summary>An enumerator started in the middle of a growth (it reads old buckets not yet evacuated) while the map keeps growing.</summary>
    [Test]
    public void Foreach_StartedMidGrowth_WhileMapKeepsGrowing_OriginalsExactlyOnce()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            var model = new Dictionary<long, long>();
            long i = 0;
            while (!(map.GetStats().IsGrowing && map.GetStats().B >= 8))
            {
                map[i] = i;
                model[i] = i;
                i++;
            }
            long next = 1L << 40;
            ForeachChecked(map, model, (k, step, touched) =>
            {
                if (step % 3 == 0)
                {
                    for (int j = 0; j < 10; j++, next++)
                    {
                        map[next] = next;
                        model[next] = next;
                        touched.Add(next);
                    }
                }
            });
        }
        alloc.AssertClean();
    }

    /// <summary>Ten enumerators open at once, each advanced a little at a time while the map grows: each returns every original once.</summary>
    [Test]
    public void TenInterleavedEnumerators_WhileGrowing_EachReturnsOriginalsOnce()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            for (long i = 0; i < 500; i++)
            {
                map[i] = i;
            }
            var enumerators = new NativeMap<long, long>.Enumerator[10];
            var seen = new HashSet<long>[10];
            for (int e = 0; e < 10; e++)
            {
                enumerators[e] = map.GetEnumerator();
                seen[e] = [];
            }
            bool any = true;
            long next = 1000;
            while (any)
            {
                any = false;
                for (int e = 0; e < 10; e++)
                {
                    for (int s = 0; s <= e; s++)
                    {
                        if (enumerators[e].MoveNext())
                        {
                            any = true;
                            long k = enumerators[e].Current.Key;
                            Assert.That(seen[e].Add(k) || k >= 1000, Is.True, $"enumerator {e} returned {k} twice");
                        }
                    }
                }
                for (int j = 0; j < 20; j++)
                {
                    map[next] = next;
                    next++;
                }
            }
            for (int e = 0; e < 10; e++)
            {
                Assert.That(Enumerable.Range(0, 500).All(k => seen[e].Contains(k)), Is.True, $"enumerator {e} missed an original");
                enumerators[e].Dispose();
            }
            map.CheckInvariants();
            Assert.That(map.GetDebugState().RetiredTables, Is.EqualTo(0));
        }
        alloc.AssertClean();
    }

    /// <summary>
    /// An enumerator abandoned without Dispose, then the map grows many times and is disposed: the
    /// enumerator throws ObjectDisposedException (it must not touch freed memory: the tracking allocator
    /// poisons freed blocks here, and the guard-page child run of "abandoned" proves it for real).
    /// </summary>
    [Test]
    public void AbandonedEnumerator_MapGrowsAndIsDisposed_ThrowsObjectDisposed()
    {
        var alloc = new TrackingAllocator();
        var map = new NativeMap<Big200, Big320>(0, alloc);
        for (int i = 0; i < 50; i++)
        {
            map[new Big200(i)] = new Big320(i);
        }
        NativeMap<Big200, Big320>.Enumerator abandoned = map.GetEnumerator();
        Assert.That(abandoned.MoveNext(), Is.True);
        for (int i = 50; i < 5000; i++)
        {
            map[new Big200(i)] = new Big320(i);
            if (i % 2 == 0)
            {
                map.Remove(new Big200(i / 2));
            }
        }
        Assert.That(map.GetDebugState().RetiredTables, Is.GreaterThan(0), "the abandoned enumerator pins nothing");
        map.CheckInvariants();
        map.Dispose();
        alloc.AssertClean();
        Assert.Throws<ObjectDisposedException>(() => abandoned.MoveNext());
        abandoned.Dispose();
    }

    /// <summary>Copies of the struct enumerator share one registration: disposing one invalidates the other, which throws instead of reading.</summary>
    [Test]
    public void EnumeratorCopy_AfterOriginalDisposedAndGrowth_ThrowsInvalidOperation()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            for (long i = 0; i < 100; i++)
            {
                map[i] = i;
            }
            NativeMap<long, long>.Enumerator a = map.GetEnumerator();
            a.MoveNext();
            NativeMap<long, long>.Enumerator b = a;
            a.Dispose();
            for (long i = 100; i < 10_000; i++)
            {
                map[i] = i;
            }
            Assert.Throws<InvalidOperationException>(() => b.MoveNext());
            map.CheckInvariants();
        }
        alloc.AssertClean();
    }

    /// <summary>
    /// Copies of the struct enumerator share one position: the copy advanced last continues, a copy
    /// it left behind throws instead of returning entries of a group the walk has left, both while
    /// the map is unchanged and after a write, and the registration is released once.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void EnumeratorCopy_LeftBehindByAnother_ThrowsInvalidOperation(bool writeBetween)
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            for (long i = 0; i < 5_000; i++)
            {
                map[i] = i;
            }
            NativeMap<long, long>.Enumerator a = map.GetEnumerator();
            Assert.That(a.MoveNext(), Is.True);
            NativeMap<long, long>.Enumerator b = a;
            var seen = new HashSet<long> { a.Current.Key };
            // b walks on past the end of a's group, so the shared position leaves it.
            for (int i = 0; i < 200; i++)
            {
                Assert.That(b.MoveNext(), Is.True);
                Assert.That(seen.Add(b.Current.Key), Is.True, $"{b.Current.Key} returned twice");
            }
            if (writeBetween)
            {
                map[-1] = -1;
            }
            Assert.Throws<InvalidOperationException>(() => { while (a.MoveNext()) { } }, "the copy left behind");
            // b, the copy advanced last, finishes the walk: every entry exactly once.
            while (b.MoveNext())
            {
                if (b.Current.Key != -1)
                {
                    Assert.That(seen.Add(b.Current.Key), Is.True, $"{b.Current.Key} returned twice");
                }
            }
            Assert.That(seen, Has.Count.EqualTo(5_000));
            Assert.That(map.GetDebugState().LiveIterators, Is.Zero, "the end released the registration");
            a.Dispose();
            b.Dispose();
            map.CheckInvariants();
        }
        alloc.AssertClean();
    }

    /// <summary>
    /// A copy left behind throws on its very next <c>MoveNext</c>, before it returns anything: the
    /// buckets of the group it was in are listed in the walk state the copies share, and the other
    /// copy's step to a new group has rewritten that list, so the rest of its mask would name cells of
    /// other buckets (empty ones among them). At load 5.9 the groups run through overflow chains.
    /// </summary>
    [Test]
    public void EnumeratorCopy_LeftBehind_ThrowsAtItsNextStep_BeforeReturningAnything()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 6_000; i++)
        {
            map[i] = i;
        }
        Assert.That(map.GetDebugState().B, Is.EqualTo(10), "6,000 entries in 1,024 buckets");
        for (int trial = 0; trial < 20; trial++)
        {
            NativeMap<long, long>.Enumerator a = map.GetEnumerator();
            Assert.That(a.MoveNext(), Is.True);
            NativeMap<long, long>.Enumerator b = a;
            // More steps than a group of eight full buckets has cells: b leaves a's group.
            for (int i = 0; i < 100; i++)
            {
                Assert.That(b.MoveNext(), Is.True);
            }
            Assert.Throws<InvalidOperationException>(() => a.MoveNext(), $"trial {trial}: the copy left behind stepped on");
            b.Dispose();
            a.Dispose();
        }
        Assert.That(map.GetDebugState().LiveIterators, Is.Zero);
    }

    /// <summary>
    /// Inside the group of buckets the walk is at, copies keep their own places (a copy advanced by
    /// one step leaves the other where it was, as Dictionary's do); the first copy to step past the
    /// group carries the walk on and returns every remaining entry exactly once, and the other copy
    /// throws at its next step. Which copy that is depends on where the random start put the group
    /// boundary, so each trial accepts either outcome and checks it in full.
    /// </summary>
    [Test]
    public void EnumeratorCopies_InsideAGroup_KeepTheirPlaces_TheFirstToLeaveCarriesOn()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 1_000; i++)
        {
            map[i] = i;
        }
        int copyCarriedOn = 0, originalCarriedOn = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            NativeMap<long, long>.Enumerator a = map.GetEnumerator();
            Assert.That(a.MoveNext(), Is.True);
            long first = a.Current.Key;
            NativeMap<long, long>.Enumerator b = a;
            Assert.That(a.MoveNext(), Is.True);
            long second = a.Current.Key;
            var fromB = new List<long>();
            bool bThrew = false;
            try
            {
                while (b.MoveNext())
                {
                    fromB.Add(b.Current.Key);
                }
            }
            catch (InvalidOperationException)
            {
                bThrew = true;
            }
            var rest = new List<long>();
            if (!bThrew)
            {
                // a's second step stayed inside the group: b kept its own place and finished the walk.
                copyCarriedOn++;
                rest = fromB;
                Assert.Throws<InvalidOperationException>(() => a.MoveNext(), $"trial {trial}: the copy b left behind");
            }
            else
            {
                // a's second step left the group: b threw at once, and a finishes the walk.
                originalCarriedOn++;
                Assert.That(fromB, Is.Empty, $"trial {trial}: the copy left behind returned entries before throwing");
                rest.Add(second);
                while (a.MoveNext())
                {
                    rest.Add(a.Current.Key);
                }
            }
            Assert.That(rest, Has.Count.EqualTo(999), $"trial {trial}");
            Assert.That(rest.Distinct().Count(), Is.EqualTo(999), $"trial {trial}: an entry returned twice");
            Assert.That(rest, Does.Not.Contain(first), $"trial {trial}");
            a.Dispose();
            b.Dispose();
        }
        TestContext.Out.WriteLine($"40 trials: the copy carried on in {copyCarriedOn}, the original in {originalCarriedOn}");
        Assert.That(map.GetDebugState().LiveIterators, Is.Zero);
    }

    /// <summary>An enumerator handed on by value and run to the end by its receiver leaves the original only to dispose.</summary>
    [Test]
    public void EnumeratorCopy_RunByItsReceiver_ReturnsEverything_AndOriginalDisposes()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            for (long i = 0; i < 3_000; i++)
            {
                map[i] = i * 7;
            }
            using NativeMap<long, long>.Enumerator e = map.GetEnumerator();
            static long Drain(NativeMap<long, long>.Enumerator it)
            {
                long n = 0;
                while (it.MoveNext())
                {
                    Assert.That(it.Current.Value, Is.EqualTo(it.Current.Key * 7));
                    n++;
                }
                return n;
            }
            Assert.That(Drain(e), Is.EqualTo(3_000));
        }
        alloc.AssertClean();
    }

    /// <summary>
    /// The walk state lives in the map's enumerator registry and is reused: once a map has been
    /// enumerated, further enumerations (one at a time, or two at once after two at once) allocate
    /// no managed memory.
    /// </summary>
    [Test]
    public void Enumerating_AgainAndAgain_AllocatesNothing()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 1_000; i++)
        {
            map[i] = i;
        }
        long Sum()
        {
            long s = 0;
            foreach (KeyValuePair<long, long> kv in map)
            {
                s += kv.Key ^ kv.Value;
            }
            return s;
        }
        long Nested()
        {
            long s = 0;
            foreach (KeyValuePair<long, long> kv in map)
            {
                foreach (KeyValuePair<long, long> inner in map)
                {
                    s += inner.Value;
                    break;
                }
                s += kv.Value;
            }
            return s;
        }
        long expected = Sum();
        Nested();
        int wrong = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            wrong += Sum() == expected ? 0 : 1;
            Nested();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(wrong, Is.Zero, "enumerations with a wrong sum");
        Assert.That(allocated, Is.Zero, "bytes allocated by 50,100 enumerations");
    }

    /// <summary>
    /// A disposed enumerator's slot and walk state go to the next enumeration; a stale copy of the
    /// disposed one then throws and leaves the new enumeration's walk alone.
    /// </summary>
    [Test]
    public void StaleCopy_OfADisposedEnumerator_DoesNotDisturbTheSlotsNextOwner()
    {
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<long, long>(0, alloc))
        {
            for (long i = 0; i < 4_000; i++)
            {
                map[i] = i;
            }
            NativeMap<long, long>.Enumerator a = map.GetEnumerator();
            Assert.That(a.MoveNext(), Is.True);
            NativeMap<long, long>.Enumerator stale = a;
            a.Dispose();
            using NativeMap<long, long>.Enumerator b = map.GetEnumerator();
            var seen = new HashSet<long>();
            for (int i = 0; i < 100; i++)
            {
                Assert.That(b.MoveNext(), Is.True);
                Assert.That(seen.Add(b.Current.Key), Is.True);
            }
            for (int i = 0; i < 3; i++)
            {
                Assert.Throws<InvalidOperationException>(() => stale.MoveNext(), "a copy of a disposed enumerator");
            }
            while (b.MoveNext())
            {
                Assert.That(seen.Add(b.Current.Key), Is.True, $"{b.Current.Key} returned twice");
            }
            Assert.That(seen, Has.Count.EqualTo(4_000));
            map.CheckInvariants();
        }
        alloc.AssertClean();
    }
}
