using Native.Map.Memory;

namespace Native.Map.Tests.Support;

/// <summary>
/// Stress scenarios run by Native.Map.StressHost under <see cref="GuardPageAllocator"/> (where any
/// overrun or use after free kills the child process) and in-process under
/// <see cref="TrackingAllocator"/>. Each returns a one-line summary or throws
/// <see cref="InvalidOperationException"/>. No NUnit dependency: the host compiles this file.
/// </summary>
internal static class StressScenarios
{
    /// <summary>Scenario names, in the order the guard-page test runs them.</summary>
    public static readonly string[] GuardPageSubset = ["growth", "evacuation", "iteration", "abandoned", "indirect", "samesize", "batches"];

    public static string Run(string name, int seed, NativeAllocator allocator) => name switch
    {
        "growth" => Growth(seed, allocator),
        "evacuation" => Evacuation(seed, allocator),
        "iteration" => Iteration(seed, allocator),
        "abandoned" => Abandoned(seed, allocator),
        "indirect" => Indirect(seed, allocator),
        "samesize" => SameSizeChurn(seed, allocator),
        "batches" => Batches(seed, allocator),
        "writers" => TwoWriters(seed, allocator),
        _ => throw new ArgumentException($"unknown scenario '{name}'", nameof(name)),
    };

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    private static long Key(int i) => (long)((ulong)i * 0x9E3779B97F4A7C15UL);

    /// <summary>Grows from empty to 150,000 entries; after every doubling every key inserted so far is found.</summary>
    private static string Growth(int seed, NativeAllocator allocator)
    {
        const int N = 150_000;
        using var map = new NativeMap<long, long>(0, allocator);
        int lastB = -1;
        int doublings = 0;
        for (int i = 0; i < N; i++)
        {
            map[Key(i)] = i;
            int b = map.GetStats().B;
            if (b != lastB)
            {
                lastB = b;
                doublings++;
                for (int j = 0; j <= i; j++)
                {
                    Require(map.TryGetValue(Key(j), out long v) && v == j, $"key {j} lost after growing to B={b}");
                }
                if (i < 20_000)
                {
                    map.CheckInvariants();
                }
            }
        }
        for (int i = 0; i < N; i += 2)
        {
            Require(map.Remove(Key(i)), $"remove {i}");
        }
        for (int i = 0; i < N; i++)
        {
            Require(map.ContainsKey(Key(i)) == (i % 2 == 1), $"key {i} after removing the even ones");
        }
        for (int i = 0; i < N; i += 2)
        {
            map[Key(i)] = -i;
        }
        Require(map.Count == N, $"count {map.Count}");
        for (int i = 0; i < N; i++)
        {
            Require(map[Key(i)] == (i % 2 == 0 ? -i : i), $"value of {i}");
        }
        map.CheckInvariants();
        return $"{N} keys, {doublings} sizes";
    }

    /// <summary>Small maps caught mid-growth; random inserts, removes and lookups until the growth ends, against a Dictionary, invariants after every step.</summary>
    private static string Evacuation(int seed, NativeAllocator allocator)
    {
        var rng = new Random(seed);
        int steps = 0;
        for (int round = 0; round < 300; round++)
        {
            using var map = new NativeMap<long, long>(0, allocator);
            var model = new Dictionary<long, long>();
            int keySpace = rng.Next(60, 3000);
            while (!map.GetStats().IsGrowing)
            {
                long k = rng.Next(keySpace);
                map[k] = k;
                model[k] = k;
            }
            while (map.GetStats().IsGrowing)
            {
                long k = rng.Next(keySpace);
                switch (rng.Next(3))
                {
                    case 0:
                        map[k] = round;
                        model[k] = round;
                        break;
                    case 1:
                        Require(map.Remove(k) == model.Remove(k), $"remove {k}");
                        break;
                    default:
                        Require(map.TryGetValue(k, out long v) == model.TryGetValue(k, out long w) && v == w, $"lookup {k}");
                        break;
                }
                map.CheckInvariants();
                steps++;
            }
            Require(map.Count == model.Count, "count");
            foreach (KeyValuePair<long, long> kv in model)
            {
                Require(map[kv.Key] == kv.Value, $"key {kv.Key}");
            }
        }
        return $"300 growths, {steps} steps mid-growth";
    }

    /// <summary>Random foreach-heavy model sequences: growth several times inside one loop, deletes, overwrites, clears.</summary>
    private static string Iteration(int seed, NativeAllocator allocator)
    {
        var rng = new Random(seed);
        var checker = new MapModelChecker<long, long, DefaultKeyHasher<long>>(k => k, v => v, () => allocator) { InvariantCheckLimit = 1500 };
        for (int i = 0; i < 400; i++)
        {
            checker.Run(RandomIterationScenario(rng));
        }
        return $"400 sequences, {checker.Operations} operations";
    }

    /// <summary>Random sequences biased towards foreach with mutations inside (System.Random, so the host needs no CsCheck).</summary>
    public static Scenario RandomIterationScenario(Random rng)
    {
        int keySpace = rng.Next(2) == 0 ? 64 : 2048;
        var ops = new List<Op> { new(OpKind.BulkSet, 0, 1, rng.Next(0, 400)) };
        int n = rng.Next(1, 12);
        for (int i = 0; i < n; i++)
        {
            switch (rng.Next(6))
            {
                case 0:
                    ops.Add(new Op(OpKind.BulkSet, rng.Next(keySpace), rng.Next(1000), rng.Next(1, 300)));
                    break;
                case 1:
                    ops.Add(new Op(OpKind.BulkRemove, rng.Next(keySpace), 0, rng.Next(1, 300)));
                    break;
                case 2:
                    ops.Add(new Op(OpKind.Clear));
                    break;
                default:
                {
                    var steps = new IterStep[rng.Next(0, 40)];
                    for (int s = 0; s < steps.Length; s++)
                    {
                        steps[s] = rng.Next(10) switch
                        {
                            0 => new IterStep(IterAction.RemoveCurrent, 0, 0, 0),
                            1 => new IterStep(IterAction.RemoveOther, rng.Next(1 << 16), 0, 0),
                            2 => new IterStep(IterAction.AddNew, rng.Next(2 * keySpace), rng.Next(1000), 0),
                            3 => new IterStep(IterAction.AddMany, 100_000 + (rng.Next(64) * 1000), rng.Next(1000), rng.Next(1, 400)),
                            4 => new IterStep(IterAction.OverwriteOther, rng.Next(1 << 16), rng.Next(1000), 0),
                            5 => new IterStep(IterAction.ReAddCurrent, 0, rng.Next(1000), 0),
                            6 => rng.Next(8) == 0 ? new IterStep(IterAction.Clear, 0, 0, 0) : default,
                            _ => default,
                        };
                    }
                    ops.Add(new Op(OpKind.Foreach, Steps: steps));
                    break;
                }
            }
        }
        return new Scenario(0, null, [.. ops]);
    }

    /// <summary>
    /// Enumerators abandoned without Dispose at random points (mid-growth included) while the map grows
    /// several times and loses entries; some are resumed and must still return every surviving entry
    /// present when they started exactly once; then the map is disposed and the rest must throw.
    /// </summary>
    private static string Abandoned(int seed, NativeAllocator allocator)
    {
        var rng = new Random(seed);
        int resumed = 0;
        for (int round = 0; round < 40; round++)
        {
            var map = new NativeMap<long, long>(0, allocator);
            var live = new HashSet<long>();
            var open = new List<(NativeMap<long, long>.Enumerator E, HashSet<long> AtStart, HashSet<long> Seen)>();
            int next = 0;
            int target = rng.Next(2_000, 30_000);
            while (next < target)
            {
                map[next] = next;
                live.Add(next);
                next++;
                if (rng.Next(500) == 0)
                {
                    NativeMap<long, long>.Enumerator e = map.GetEnumerator();
                    var seen = new HashSet<long>();
                    var atStart = new HashSet<long>(live);
                    for (int s = rng.Next(0, 50); s > 0 && e.MoveNext(); s--)
                    {
                        seen.Add(e.Current.Key);
                    }
                    open.Add((e, atStart, seen));
                }
                if (rng.Next(7) == 0 && live.Count > 0)
                {
                    long victim = rng.Next(next);
                    if (live.Remove(victim))
                    {
                        Require(map.Remove(victim), $"remove {victim}");
                        foreach (var o in open)
                        {
                            o.AtStart.Remove(victim);
                        }
                    }
                }
            }
            // Resume about half of the abandoned enumerators to the end.
            for (int i = 0; i < open.Count; i += 2)
            {
                NativeMap<long, long>.Enumerator e = open[i].E;
                while (e.MoveNext())
                {
                    Require(live.Contains(e.Current.Key) && e.Current.Value == e.Current.Key, $"resumed enumerator returned {e.Current.Key}, which is not live");
                    Require(open[i].Seen.Add(e.Current.Key) || !open[i].AtStart.Contains(e.Current.Key), $"resumed enumerator returned {e.Current.Key} twice");
                }
                Require(open[i].AtStart.IsSubsetOf(open[i].Seen), "a resumed enumerator missed an entry that was there all along");
                resumed++;
            }
            map.CheckInvariants();
            map.Dispose();
            for (int i = 1; i < open.Count; i += 2)
            {
                NativeMap<long, long>.Enumerator e = open[i].E;
                bool threw = false;
                try
                {
                    e.MoveNext();
                }
                catch (ObjectDisposedException)
                {
                    threw = true;
                }
                Require(threw, "MoveNext on an abandoned enumerator of a disposed map did not throw ObjectDisposedException");
            }
            GC.Collect();
        }
        return $"40 maps, {resumed} enumerators resumed";
    }

    /// <summary>Indirect keys and values (200 and 320 bytes): model sequences, then growth, removal, clear, abandoned enumerators.</summary>
    /// <summary>
    /// The batched calls against a Dictionary: <c>TryGetValues</c> on its prefetching pipelines
    /// (forced on for these small maps, so that they read buckets computed keys ahead, through
    /// growths and overflow chains), <c>SetValues</c> and <c>RemoveKeys</c> (look-ahead of 24 keys),
    /// batches of every length from 0 to 300, over long keys and indirect (200/320-byte) ones.
    /// </summary>
    private static string Batches(int seed, NativeAllocator allocator)
    {
        var rng = new Random(seed);
        long operations = 0;
        for (int round = 0; round < 40; round++)
        {
            using var map = new NativeMap<long, long>(0, allocator);
            map._pipelinedLookupMinBytes = 0;
            var model = new Dictionary<long, long>();
            int keySpace = rng.Next(100, 20_000);
            for (int step = 0; step < 60; step++)
            {
                long[] keys = [.. Enumerable.Range(0, rng.Next(0, 300)).Select(_ => (long)rng.Next(keySpace))];
                switch (rng.Next(3))
                {
                    case 0:
                        long[] values = [.. keys.Select(k => k ^ step)];
                        map.SetValues(keys, values);
                        for (int i = 0; i < keys.Length; i++)
                        {
                            model[keys[i]] = values[i];
                        }
                        break;
                    case 1:
                        var removed = new bool[keys.Length];
                        int count = map.RemoveKeys(keys, removed);
                        int want = 0;
                        for (int i = 0; i < keys.Length; i++)
                        {
                            bool present = model.Remove(keys[i]);
                            Require(removed[i] == present, $"RemoveKeys reported {removed[i]} for key {keys[i]}");
                            want += present ? 1 : 0;
                        }
                        Require(count == want, $"RemoveKeys count {count}, expected {want}");
                        break;
                    default:
                        var got = new long[keys.Length];
                        var found = new bool[keys.Length];
                        int hits = map.TryGetValues(keys, got, found);
                        int expected = 0;
                        for (int i = 0; i < keys.Length; i++)
                        {
                            bool present = model.TryGetValue(keys[i], out long v);
                            Require(found[i] == present && got[i] == (present ? v : 0), $"TryGetValues of key {keys[i]}");
                            expected += present ? 1 : 0;
                        }
                        Require(hits == expected, $"TryGetValues hits {hits}, expected {expected}");
                        break;
                }
                operations += keys.Length;
                Require(map.Count == model.Count, $"count {map.Count}, expected {model.Count}");
            }
            map.CheckInvariants();
        }
        using (var big = new NativeMap<Big200, Big320>(0, allocator))
        {
            big._pipelinedLookupMinBytes = 0;
            var present = new HashSet<int>();
            for (int step = 0; step < 40; step++)
            {
                int[] ids = [.. Enumerable.Range(0, rng.Next(0, 120)).Select(_ => rng.Next(2_000))];
                Big200[] keys = [.. ids.Select(i => new Big200(i))];
                if (rng.Next(2) == 0)
                {
                    big.SetValues(keys, [.. ids.Select(i => new Big320(i))]);
                    present.UnionWith(ids);
                }
                else
                {
                    int count = big.RemoveKeys(keys);
                    int want = ids.Count(present.Remove);
                    Require(count == want, $"indirect RemoveKeys count {count}, expected {want}");
                }
                var got = new Big320[keys.Length];
                var found = new bool[keys.Length];
                big.TryGetValues(keys, got, found);
                for (int i = 0; i < keys.Length; i++)
                {
                    Require(found[i] == present.Contains(ids[i]) && (!found[i] || got[i].Equals(new Big320(ids[i]))), $"indirect key {ids[i]}");
                }
                operations += 2L * keys.Length;
            }
            big.CheckInvariants();
            Require(big.Count == present.Count, "indirect count");
        }
        return $"40 maps and an indirect one, {operations} batched keys";
    }

    private static string Indirect(int seed, NativeAllocator allocator)
    {
        var rng = new Random(seed);
        var checker = new MapModelChecker<Big200, Big320, DefaultKeyHasher<Big200>>(k => new Big200(k), v => new Big320(v), () => allocator) { InvariantCheckLimit = 1000 };
        for (int i = 0; i < 60; i++)
        {
            checker.Run(RandomIterationScenario(rng));
        }
        using var map = new NativeMap<Big200, Big320>(0, allocator);
        NativeMap<Big200, Big320>.Enumerator abandoned = default;
        for (int i = 0; i < 4000; i++)
        {
            map[new Big200(i)] = new Big320(i);
            if (i % 3 == 0)
            {
                map.Remove(new Big200(i / 2));
            }
            if (i == 1000)
            {
                abandoned = map.GetEnumerator();
                abandoned.MoveNext();
            }
        }
        map.CheckInvariants();
        int count = 0;
        foreach (KeyValuePair<Big200, Big320> kv in map)
        {
            Require(kv.Value.Equals(new Big320(kv.Key.Seed)), $"value of {kv.Key}");
            count++;
        }
        Require(count == map.Count, "count");
        map.Clear();
        Require(!abandoned.MoveNext(), "the abandoned enumerator returned an entry after Clear");
        for (int i = 0; i < 500; i++)
        {
            map[new Big200(i)] = new Big320(-i);
        }
        map.CheckInvariants();
        return $"60 sequences ({checker.Operations} operations), 4000-entry churn";
    }

    /// <summary>Insert/delete churn at constant size (random keys, then one colliding chain): overflow buckets pile up and same-size growth sheds them.</summary>
    private static string SameSizeChurn(int seed, NativeAllocator allocator)
    {
        var rng = new Random(seed);
        long sameSize = 0;
        using (var map = new NativeMap<long, long>(0, allocator))
        {
            var fifo = new Queue<long>();
            for (int i = 0; i < 20_000; i++)
            {
                long k = rng.NextInt64();
                if (map.TryAdd(k, k))
                {
                    fifo.Enqueue(k);
                }
            }
            for (int i = 0; i < 1_000_000; i++)
            {
                long old = fifo.Dequeue();
                Require(map.Remove(old), "churn remove");
                long k;
                do
                {
                    k = rng.NextInt64();
                }
                while (!map.TryAdd(k, k));
                fifo.Enqueue(k);
            }
            foreach (long k in fifo)
            {
                Require(map[k] == k, "churn lookup");
            }
            Require(map.Count == fifo.Count, "churn count");
            map.CheckInvariants();
            sameSize += map.GetStats().SameSizeGrowthsStarted;
        }
        long chained;
        using (var map = new NativeMap<long, long, CollidingHasher>(0, allocator, 1u))
        {
            // Fill one chain (all keys share bucket and tophash), then delete most of it, and move on to
            // the next chain: the emptied overflow buckets stay linked until a same-size growth sheds them.
            var kept = new Queue<long>();
            long next = 0;
            for (int round = 0; round < 400; round++)
            {
                long group = round % (1 << CollidingHasher.Bits);
                var added = new List<long>();
                for (int i = 0; i < 200; i++, next++)
                {
                    long k = (next << CollidingHasher.Bits) | group;
                    map[k] = k;
                    added.Add(k);
                }
                for (int i = 0; i < added.Count; i++)
                {
                    if (i % 20 == 0)
                    {
                        kept.Enqueue(added[i]);
                    }
                    else
                    {
                        Require(map.Remove(added[i]), "chain remove");
                    }
                }
                while (kept.Count > 300)
                {
                    Require(map.Remove(kept.Dequeue()), "chain remove (kept)");
                }
                if (round % 50 == 0)
                {
                    map.CheckInvariants();
                }
            }
            foreach (long k in kept)
            {
                Require(map[k] == k, "chain lookup");
            }
            Require(map.Count == kept.Count, "chain count");
            map.CheckInvariants();
            chained = map.GetStats().SameSizeGrowthsStarted;
            Require(chained > 0, "no same-size growth although emptied overflow chains piled up");
        }
        return $"same-size growths: {sameSize} (random keys), {chained} (one chain)";
    }

    /// <summary>
    /// Two unsynchronised writers on one map, each on its own keys. A refused write (InvalidOperationException,
    /// "concurrent map writes") must have changed nothing, so the final map must equal the union of both
    /// threads' successful writes, and pass the invariant checker.
    /// </summary>
    private static string TwoWriters(int seed, NativeAllocator allocator)
    {
        const int OpsPerThread = 20_000;
        using var map = new NativeMap<long, long>(0, allocator);
        var models = new Dictionary<long, long>[2];
        var conflicts = new int[2];
        var errors = new Exception?[2];
        using var start = new Barrier(2);
        var threads = new Thread[2];
        for (int t = 0; t < 2; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                var rng = new Random(seed * 2 + id);
                var model = models[id] = [];
                start.SignalAndWait();
                try
                {
                    for (int i = 0; i < OpsPerThread; i++)
                    {
                        long k = (id * 1_000_000_000L) + rng.Next(5000);
                        try
                        {
                            switch (rng.Next(4))
                            {
                                case 0:
                                case 1:
                                    map[k] = i;
                                    model[k] = i;
                                    break;
                                case 2:
                                    if (map.TryAdd(k, -i))
                                    {
                                        model.Add(k, -i);
                                    }
                                    break;
                                default:
                                    map.Remove(k);
                                    model.Remove(k);
                                    break;
                            }
                        }
                        catch (InvalidOperationException e) when (e.Message.Contains("concurrent map writes", StringComparison.Ordinal))
                        {
                            conflicts[id]++;
                        }
                    }
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
            Require(t.Join(TimeSpan.FromSeconds(60)), "a writer hung");
        }
        foreach (Exception? e in errors)
        {
            Require(e is null, $"a writer failed with something other than 'concurrent map writes': {e}");
        }
        map.CheckInvariants();
        Require(map.Count == models[0].Count + models[1].Count, $"count {map.Count}, writers' models {models[0].Count} + {models[1].Count}");
        foreach (Dictionary<long, long> model in models)
        {
            foreach (KeyValuePair<long, long> kv in model)
            {
                Require(map.TryGetValue(kv.Key, out long v) && v == kv.Value, $"key {kv.Key}: map {v}, writer's model {kv.Value}");
            }
        }
        return $"conflicts={conflicts[0] + conflicts[1]} consistent count={map.Count}";
    }
}
