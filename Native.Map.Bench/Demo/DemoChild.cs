using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Text.Json;
using HdrHistogram;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Demo;

/// <summary>
/// One measurement of one map in a process of its own (hidden subcommand <c>demo-child</c>): the
/// parent starts one per map and mode, so GC counts, heap and peak resident memory are this map's.
/// </summary>
/// <remarks>
/// Modes:
/// <list type="bullet">
/// <item><c>throughput</c>: build from empty with a clock read per 10 % chunk only (insert ns/op,
/// GC counts and pause, heap, native bytes, peak RSS), then lookup hit, lookup miss, iterate and
/// remove, each timed over whole passes; for a map with batched calls (NativeMap), then batched
/// lookup hit and miss (<c>TryGetValues</c>) and batched removal (<c>RemoveKeys</c>).</item>
/// <item><c>latency</c>: the same build with a clock read after every insert (per-insert latency
/// histogram and plot; the clock read is in every sample, and its own cost is reported).</item>
/// <item><c>telemetry</c>: the latency build with every Native.Map instrument enabled; only its
/// growth table is used.</item>
/// <item><c>presized</c>: a build into a map made with a capacity of N (and, for NativeMap, one
/// through <c>SetValues</c>).</item>
/// </list>
/// The result goes to stdout as one JSON document; progress goes to stderr.
/// </remarks>
internal static class DemoChild
{
    public const string Command = "demo-child";

    /// <summary>Each lookup/iterate/remove phase repeats whole passes until it has run this long (--phase-ms, default 250 ms).</summary>
    private static long s_minPhaseTicks = Stopwatch.Frequency / 4;

    private const int MaxPasses = 200;

    /// <summary>Inserts slower than this are kept individually for the plot.</summary>
    private const long OutlierThresholdNs = 20_000;

    private const int MaxOutliers = 20_000;

    private const int PlotBlocks = 2_000;

    public static int Run(string[] args)
    {
        string map = "", mode = "throughput";
        int n = 0, round = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--map": map = args[++i]; break;
                case "--mode": mode = args[++i]; break;
                case "--n": n = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--round": round = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--huge-pages": NativeMapMemory.UseHugePages = args[++i] == "on"; break;
                case "--phase-ms": s_minPhaseTicks = Stopwatch.Frequency * int.Parse(args[++i], CultureInfo.InvariantCulture) / 1000; break;
                default: throw new ArgumentException($"{Command}: unknown argument '{args[i]}'.");
            }
        }
        if (n <= 0 || mode is not ("throughput" or "latency" or "telemetry" or "presized"))
        {
            throw new ArgumentException($"{Command}: need --map, --mode throughput|latency|telemetry|presized and --n > 0.");
        }
        ChildResult result = map switch
        {
            "NativeMap" => Measure<NativeMapUnderTest>(mode, n, round),
            "Dictionary" => Measure<DictionaryUnderTest>(mode, n, round),
            _ => throw new ArgumentException($"{Command}: --map must be NativeMap or Dictionary."),
        };
        Console.Out.Write(JsonSerializer.Serialize(result, DemoJson.Compact));
        return 0;
    }

    private static ChildResult Measure<TMap>(string mode, int n, int round)
        where TMap : struct, IMapUnderTest<TMap>
    {
        string label = $"[{TMap.Name} {mode} r{round}]";
        Progress($"{label} keys: {n:N0} splitmix64 (seed 0x{Keys.Seed:X}), misses, shuffled order");
        long[] keys = Keys.Hits(n);
        long[] misses = mode == "throughput" ? Keys.Misses(n) : [];
        long[] order = mode == "throughput" ? Keys.Shuffled(keys) : [];
        bool timed = mode is "latency" or "telemetry";
        long[] latencies = timed ? new long[n] : [];

        bool listen = timed && typeof(TMap) == typeof(NativeMapUnderTest);
        int warmupRounds = WarmUp<TMap>(n, listen, full: mode == "telemetry");
        Progress($"{label} warm-up: {warmupRounds} rounds until the JIT went quiet");
        if (mode == "presized")
        {
            var presized = new ChildResult
            {
                Map = TMap.Name, Mode = mode, N = n, Round = round, WarmupRounds = warmupRounds,
                LoadAverage = ProcessMemory.LoadAverage(), KeyDigest = Keys.Digest(keys),
            };
            return MeasurePresized<TMap>(keys, presized, label);
        }
        double timerOverheadNs = timed ? TimerOverheadNs() : 0;

        // Baseline: everything allocated, garbage collected, peak RSS reset.
        FullCollect();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long nativeBefore = NativeMapMemory.LiveBytes;
        using GrowthRecorder? growth = listen ? new GrowthRecorder(full: mode == "telemetry") : null;
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        TimeSpan pause = GC.GetTotalPauseDuration();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        long rssBefore = ProcessMemory.ResidentBytes();
        bool peakReset = ProcessMemory.TryResetPeak();
        double loadAverage = ProcessMemory.LoadAverage();
        long faults = ProcessMemory.MinorPageFaults();

        TMap map = TMap.Create();
        long buildTicks = mode == "throughput" ? Build(map, keys, label) : BuildTimed(map, keys, latencies, label);

        int dGen0 = GC.CollectionCount(0) - gen0, dGen1 = GC.CollectionCount(1) - gen1, dGen2 = GC.CollectionCount(2) - gen2;
        double pauseMs = (GC.GetTotalPauseDuration() - pause).TotalMilliseconds;
        long allocatedDuring = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        long peakRss = ProcessMemory.PeakResidentBytes();
        long faultsDuring = faults < 0 ? -1 : ProcessMemory.MinorPageFaults() - faults;
        long nativeBytes = map.NativeBytes;
        long nativeDelta = NativeMapMemory.LiveBytes - nativeBefore;
        List<GrowthEvent>? growths = growth?.Growths();
        growth?.Dispose();
        long managedLive = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        CheckCount(map, n, label);
        string shape = map.Describe();
        Progress($"{label} built in {Ticks.ToMs(buildTicks):N0} ms: {shape}");

        var result = new ChildResult
        {
            Map = TMap.Name,
            Mode = mode,
            N = n,
            Round = round,
            WarmupRounds = warmupRounds,
            LoadAverage = loadAverage,
            BuildMs = Ticks.ToMs(buildTicks),
            InsertNsPerOp = Ticks.ToNs(buildTicks) / n,
            Gen0 = dGen0,
            Gen1 = dGen1,
            Gen2 = dGen2,
            GcPauseMs = pauseMs,
            ManagedAllocatedBytes = allocatedDuring,
            MinorPageFaults = faultsDuring,
            ManagedLiveBytes = managedLive,
            NativeBytes = nativeBytes,
            NativeLiveBytesDelta = nativeDelta,
            RssBeforeBuildBytes = rssBefore,
            PeakRssBytes = peakRss,
            PeakRssIsBuildOnly = peakReset,
            Shape = shape,
            Growths = growths,
            KeyDigest = mode == "throughput" ? Keys.Digest(keys, misses, order) : Keys.Digest(keys),
        };

        if (mode == "throughput")
        {
            result = MeasureOperations(map, keys, misses, order, result, label);
            map.Dispose();
            return result;
        }
        map.Dispose();
        return result with
        {
            Latency = Summarise(latencies, timerOverheadNs),
            Plot = mode == "latency" ? DownSample(latencies) : null,
        };
    }

    /// <summary>Lookup hit, lookup miss, iterate, then remove (which empties the map), each over whole passes.</summary>
    private static ChildResult MeasureOperations<TMap>(TMap map, long[] keys, long[] misses, long[] order, ChildResult result, string label)
        where TMap : struct, IMapUnderTest<TMap>
    {
        Progress($"{label} lookup hit ({keys.Length:N0} shuffled keys per pass)");
        (double hitNs, int hitPasses) = TimeLookups(() => LookupRange(map, order), order.Length, expectFound: true, TMap.Name);
        Progress($"{label} lookup miss");
        (double missNs, int missPasses) = TimeLookups(() => LookupRange(map, misses), misses.Length, expectFound: false, TMap.Name);

        Progress($"{label} iterate");
        long iterTicks = 0;
        int iterPasses = 0;
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            long sum = SumAll(map);
            iterTicks += Stopwatch.GetTimestamp() - t0;
            GC.KeepAlive(sum);
            iterPasses++;
        }
        while (iterTicks < s_minPhaseTicks && iterPasses < MaxPasses);

        Progress($"{label} remove all (shuffled order)");
        (double removeNs, int removePasses) = TimeRemovals(map, keys, () => RemoveRange(map, order), label);

        result = result with
        {
            LookupHitNs = hitNs,
            LookupHitPasses = hitPasses,
            LookupMissNs = missNs,
            LookupMissPasses = missPasses,
            IterateNs = Ticks.ToNs(iterTicks) / ((double)iterPasses * keys.Length),
            IteratePasses = iterPasses,
            RemoveNs = removeNs,
            RemovePasses = removePasses,
        };
        return map is IBatchedMapUnderTest batched ? MeasureBatched(batched, map, keys, misses, order, result, label) : result;
    }

    /// <summary>
    /// The <c>presized</c> mode: a map made with a capacity of N, filled with the same keys and timed
    /// like the build from empty, in a process that has built nothing else (so both maps take fresh
    /// memory, as the build from empty does); for a map with batched calls, then another one filled
    /// with <c>SetValues</c> in batches of <see cref="WriteBatch"/>, after the first was disposed and
    /// its memory returned (<see cref="Settle"/>: NativeMap maps fresh memory for every array).
    /// </summary>
    private static ChildResult MeasurePresized<TMap>(long[] keys, ChildResult result, string label)
        where TMap : struct, IMapUnderTest<TMap>
    {
        int n = keys.Length;
        Settle();
        Progress($"{label} insert presized (capacity {n:N0})");
        TMap presized = TMap.CreatePresized(n);
        long ticks = Build(n, (start, end) => InsertRange(presized, keys, start, end), label + " presized");
        CheckCount(presized, n, label + " presized");
        presized.Dispose();
        result = result with { InsertPresizedNsPerOp = Ticks.ToNs(ticks) / n };

        if (!typeof(IBatchedMapUnderTest).IsAssignableFrom(typeof(TMap)))
        {
            return result;
        }
        long[] values = Indexes(n);
        Settle();
        Progress($"{label} insert presized, batched ({WriteBatch:N0} keys a call)");
        TMap batched = TMap.CreatePresized(n);
        ticks = Build(n, (start, end) => SetRange((IBatchedMapUnderTest)batched, keys, values, start, end), label + " presized, batched");
        CheckCount(batched, n, label + " presized, batched");
        batched.Dispose();
        return result with { InsertPresizedBatchedNs = Ticks.ToNs(ticks) / n };
    }

    /// <summary>
    /// Waits until the maps disposed so far have given their memory back (NativeMap's page worker
    /// unmaps large arrays off-thread; at most 10 s) and collects the managed heap, so that the next
    /// build neither competes with an unmap nor lands in memory a dropped map left behind.
    /// </summary>
    private static void Settle()
    {
        var wait = Stopwatch.StartNew();
        while (NativeMapMemory.PendingReleaseBytes > 0 && wait.ElapsedMilliseconds < 10_000)
        {
            Thread.Sleep(10);
        }
        FullCollect();
    }

    private static void CheckCount<TMap>(TMap map, int n, string label)
        where TMap : struct, IMapUnderTest<TMap>
    {
        if (map.Count != n)
        {
            throw new InvalidOperationException($"{label} built {map.Count} entries, expected {n}.");
        }
    }

    /// <summary>0, 1, ..., n - 1: the values the builds store (key i gets value i).</summary>
    private static long[] Indexes(int n)
    {
        var values = new long[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = i;
        }
        return values;
    }

    /// <summary>Keys per <c>SetValues</c> call (as in BenchmarkDotNet's insert classes).</summary>
    private const int WriteBatch = 1024;

    /// <summary>Keys per <c>TryGetValues</c> call (as in BenchmarkDotNet's lookup classes).</summary>
    private const int LookupBatch = Suites.Work.LookupBatch;

    /// <summary>Keys per <c>RemoveKeys</c> call (as in BenchmarkDotNet's <c>RemoveAll</c>).</summary>
    private const int RemoveBatch = 1024;

    /// <summary>
    /// The batched calls, after the single-key phases: lookup hit and miss with <c>TryGetValues</c>,
    /// then removal of every key with <c>RemoveKeys</c> (the map refilled, untimed, before each pass).
    /// </summary>
    private static ChildResult MeasureBatched<TMap>(IBatchedMapUnderTest batched, TMap map, long[] keys, long[] misses, long[] order, ChildResult result, string label)
        where TMap : struct, IMapUnderTest<TMap>
    {
        var values = new long[LookupBatch];
        var found = new bool[LookupBatch];
        InsertRange(map, keys, 0, keys.Length); // the single-key remove phase emptied it
        Progress($"{label} lookup hit, batched ({LookupBatch:N0} keys a call)");
        (double hitNs, _) = TimeLookups(() => LookupBatched(batched, order, values, found), order.Length, expectFound: true, label + " batched");
        Progress($"{label} lookup miss, batched");
        (double missNs, _) = TimeLookups(() => LookupBatched(batched, misses, values, found), misses.Length, expectFound: false, label + " batched");

        Progress($"{label} remove all, batched ({RemoveBatch:N0} keys a call)");
        (double removeNs, _) = TimeRemovals(map, keys, () => RemoveBatched(batched, order), label + " batched");
        return result with
        {
            LookupHitBatchedNs = hitNs,
            LookupMissBatchedNs = missNs,
            RemoveBatchedNs = removeNs,
        };
    }

    /// <summary>
    /// Times whole passes of <paramref name="removeAll"/>, which must empty the map, until the phase
    /// has run long enough, refilling the map (untimed) between passes. Returns ns per key and passes.
    /// </summary>
    private static (double NsPerOp, int Passes) TimeRemovals<TMap>(TMap map, long[] keys, Func<long> removeAll, string label)
        where TMap : struct, IMapUnderTest<TMap>
    {
        long ticks = 0;
        int passes = 0;
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            long removed = removeAll();
            ticks += Stopwatch.GetTimestamp() - t0;
            passes++;
            if (removed != keys.Length || map.Count != 0)
            {
                throw new InvalidOperationException($"{label} removed {removed} of {keys.Length}.");
            }
            if (ticks >= s_minPhaseTicks || passes >= MaxPasses)
            {
                return (Ticks.ToNs(ticks) / ((double)passes * keys.Length), passes);
            }
            InsertRange(map, keys, 0, keys.Length); // refill, untimed
        }
    }

    /// <summary>
    /// Times whole passes of <paramref name="pass"/>, which looks up <paramref name="keys"/> keys and
    /// returns how many it found (all or none, as <paramref name="expectFound"/> says), until the
    /// phase has run long enough. Returns ns per key and passes.
    /// </summary>
    private static (double NsPerOp, int Passes) TimeLookups(Func<long> pass, int keys, bool expectFound, string label)
    {
        long ticks = 0;
        int passes = 0;
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            long found = pass();
            ticks += Stopwatch.GetTimestamp() - t0;
            passes++;
            if (found != (expectFound ? keys : 0))
            {
                throw new InvalidOperationException($"{label}: {found} of {keys} lookups found, expected {(expectFound ? "all" : "none")}.");
            }
        }
        while (ticks < s_minPhaseTicks && passes < MaxPasses);
        return (Ticks.ToNs(ticks) / ((double)passes * keys), passes);
    }

    // ---- the measured loops (kept small, generic over the map struct, warmed up before use) ----

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void InsertRange<TMap>(TMap map, long[] keys, int start, int end)
        where TMap : struct, IMapUnderTest<TMap>
    {
        for (int i = start; i < end; i++)
        {
            map.Add(keys[i], i);
        }
    }

    /// <summary>Inserts with one clock read per insert; each sample is the time since the previous read.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void InsertRangeTimed<TMap>(TMap map, long[] keys, long[] latencies, int start, int end)
        where TMap : struct, IMapUnderTest<TMap>
    {
        long previous = Stopwatch.GetTimestamp();
        for (int i = start; i < end; i++)
        {
            GrowthRecorder.CurrentIndex = i;
            map.Add(keys[i], i);
            long now = Stopwatch.GetTimestamp();
            latencies[i] = now - previous;
            previous = now;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long LookupRange<TMap>(TMap map, long[] probe)
        where TMap : struct, IMapUnderTest<TMap>
    {
        long found = 0;
        for (int i = 0; i < probe.Length; i++)
        {
            found += map.TryGetValue(probe[i], out _) ? 1 : 0;
        }
        return found;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long RemoveRange<TMap>(TMap map, long[] order)
        where TMap : struct, IMapUnderTest<TMap>
    {
        long removed = 0;
        for (int i = 0; i < order.Length; i++)
        {
            removed += map.Remove(order[i]) ? 1 : 0;
        }
        return removed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long LookupBatched(IBatchedMapUnderTest map, long[] probe, long[] values, bool[] found)
    {
        long hits = 0;
        for (int i = 0; i < probe.Length; i += LookupBatch)
        {
            int n = Math.Min(LookupBatch, probe.Length - i);
            hits += map.TryGetValues(probe.AsSpan(i, n), values.AsSpan(0, n), found.AsSpan(0, n));
        }
        return hits;
    }

    /// <summary>Inserts keys[start..end) with values[start..end) through <c>SetValues</c>, <see cref="WriteBatch"/> keys a call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SetRange(IBatchedMapUnderTest map, long[] keys, long[] values, int start, int end)
    {
        for (int i = start; i < end; i += WriteBatch)
        {
            int n = Math.Min(WriteBatch, end - i);
            map.SetValues(keys.AsSpan(i, n), values.AsSpan(i, n));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long RemoveBatched(IBatchedMapUnderTest map, long[] order)
    {
        long removed = 0;
        for (int i = 0; i < order.Length; i += RemoveBatch)
        {
            removed += map.RemoveKeys(order.AsSpan(i, Math.Min(RemoveBatch, order.Length - i)));
        }
        return removed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long SumAll<TMap>(TMap map)
        where TMap : struct, IMapUnderTest<TMap> => map.SumAll();

    /// <summary>Builds in chunks of about 10 % (progress between chunks, outside the clock). Returns the ticks spent inserting.</summary>
    private static long Build<TMap>(TMap map, long[] keys, string label)
        where TMap : struct, IMapUnderTest<TMap> => Build(keys.Length, (start, end) => InsertRange(map, keys, start, end), label);

    /// <summary>Runs <paramref name="insertRange"/> over 0..<paramref name="n"/> in chunks of about 10 %, timing only the chunks.</summary>
    private static long Build(int n, Action<int, int> insertRange, string label)
    {
        long ticks = 0;
        int chunk = ChunkSize(n);
        for (int start = 0; start < n; start += chunk)
        {
            int end = Math.Min(n, start + chunk);
            long t0 = Stopwatch.GetTimestamp();
            insertRange(start, end);
            ticks += Stopwatch.GetTimestamp() - t0;
            BuildProgress(label, end, n);
        }
        return ticks;
    }

    /// <summary>Builds with a clock read per insert, in chunks like <see cref="Build{TMap}"/>. Returns the sum of the samples.</summary>
    private static long BuildTimed<TMap>(TMap map, long[] keys, long[] latencies, string label)
        where TMap : struct, IMapUnderTest<TMap>
    {
        int chunk = ChunkSize(keys.Length);
        for (int start = 0; start < keys.Length; start += chunk)
        {
            int end = Math.Min(keys.Length, start + chunk);
            InsertRangeTimed(map, keys, latencies, start, end);
            BuildProgress(label, end, keys.Length);
        }
        long total = 0;
        foreach (long t in latencies)
        {
            total += t;
        }
        return total;
    }

    private static int ChunkSize(int n) => n >= 1_000_000 ? (n + 9) / 10 : n;

    /// <summary>
    /// Runs every measured loop on a separate key set (never inserted in the measured map) until
    /// the JIT has stopped compiling: each round calls each loop 40 times on a small map, so tiered
    /// compilation promotes them and the map methods they inline, then sleeps for the background
    /// compiler; it stops after two quiet rounds (at least 3 rounds, at most 20). With
    /// <paramref name="listen"/>, a growth recorder listens during the warm-up too, so that the first
    /// measured growth does not pay for compiling the listener's path.
    /// </summary>
    private static int WarmUp<TMap>(int n, bool listen, bool full)
        where TMap : struct, IMapUnderTest<TMap>
    {
        using GrowthRecorder? recorder = listen ? new GrowthRecorder(full) : null;
        long[] warm = Keys.Stream(Math.Min(n, 1 << 15), skip: 2L * n);
        long[] warmMiss = Keys.Stream(warm.Length, skip: 3L * n);
        long[] lat = new long[warm.Length];
        int small = Math.Min(warm.Length, 512);
        long lastCompiled = -1;
        int quiet = 0, rounds = 0;
        while (rounds < 20)
        {
            rounds++;
            for (int rep = 0; rep < 40; rep++)
            {
                Exercise(warm.AsSpan(0, small).ToArray(), warmMiss, lat);
            }
            Exercise(warm, warmMiss, lat);
            Thread.Sleep(100);
            long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = compiled == lastCompiled ? quiet + 1 : 0;
            lastCompiled = compiled;
            if (quiet >= 2 && rounds >= 3)
            {
                break;
            }
        }
        return rounds;

        static void Exercise(long[] keys, long[] missKeys, long[] lat)
        {
            TMap a = TMap.Create();
            InsertRange(a, keys, 0, keys.Length);
            LookupRange(a, keys);
            LookupRange(a, missKeys);
            SumAll(a);
            RemoveRange(a, keys);
            if (a is IBatchedMapUnderTest batched)
            {
                InsertRange(a, keys, 0, keys.Length);
                var values = new long[LookupBatch];
                var found = new bool[LookupBatch];
                LookupBatched(batched, keys, values, found);
                LookupBatched(batched, missKeys, values, found);
                RemoveBatched(batched, keys);
                TMap set = TMap.CreatePresized(keys.Length);
                SetRange((IBatchedMapUnderTest)set, keys, Indexes(keys.Length), 0, keys.Length);
                set.Dispose();
            }
            a.Dispose();
            TMap presized = TMap.CreatePresized(keys.Length);
            InsertRange(presized, keys, 0, keys.Length);
            presized.Dispose();
            TMap b = TMap.Create();
            InsertRangeTimed(b, keys, lat, 0, keys.Length);
            b.Dispose();
        }
    }

    /// <summary>Median cost of the clock read itself, measured with the same chained-read loop as the inserts.</summary>
    private static double TimerOverheadNs()
    {
        var h = new LongHistogram(Stopwatch.Frequency, 3);
        for (int rep = 0; rep < 5; rep++)
        {
            long previous = Stopwatch.GetTimestamp();
            for (int i = 0; i < 200_000; i++)
            {
                long now = Stopwatch.GetTimestamp();
                h.RecordValue(Math.Max(0, now - previous));
                previous = Stopwatch.GetTimestamp();
            }
        }
        return Ticks.ToNs(h.GetValueAtPercentile(50));
    }

    private static LatencySummary Summarise(long[] latencies, double timerOverheadNs)
    {
        var h = new LongHistogram(TimeSpan.FromSeconds(100).Ticks * 100, 3); // ns, up to 100 s
        long max = 0, maxIndex = 0, over10Us = 0, over1Ms = 0;
        double sum = 0;
        for (int i = 0; i < latencies.Length; i++)
        {
            long ns = (long)Ticks.ToNs(latencies[i]);
            h.RecordValue(ns);
            sum += ns;
            if (ns > max)
            {
                max = ns;
                maxIndex = i;
            }
            over10Us += ns > 10_000 ? 1 : 0;
            over1Ms += ns > 1_000_000 ? 1 : 0;
        }
        return new LatencySummary(
            latencies.Length,
            sum / latencies.Length,
            h.GetValueAtPercentile(50),
            h.GetValueAtPercentile(90),
            h.GetValueAtPercentile(99),
            h.GetValueAtPercentile(99.9),
            h.GetValueAtPercentile(99.99),
            max,
            maxIndex,
            over10Us,
            over1Ms,
            timerOverheadNs);
    }

    /// <summary>Median and max of each of ~2,000 blocks, plus every insert over the outlier threshold (the largest 20,000 if more).</summary>
    private static PlotSeries DownSample(long[] latencies)
    {
        int n = latencies.Length;
        int blockSize = Math.Max(1, (n + PlotBlocks - 1) / PlotBlocks);
        var blockStart = new List<long>();
        var blockMedian = new List<long>();
        var blockIndex = new List<long>();
        var blockMax = new List<long>();
        var outliers = new List<(long Index, long Ns)>();
        long[] scratch = new long[blockSize];
        for (int start = 0; start < n; start += blockSize)
        {
            int end = Math.Min(n, start + blockSize);
            long best = -1, bestIndex = start;
            for (int i = start; i < end; i++)
            {
                long ns = (long)Ticks.ToNs(latencies[i]);
                scratch[i - start] = ns;
                if (ns > best)
                {
                    best = ns;
                    bestIndex = i;
                }
                if (ns >= OutlierThresholdNs)
                {
                    outliers.Add((i, ns));
                }
            }
            Span<long> block = scratch.AsSpan(0, end - start);
            block.Sort();
            blockStart.Add(start);
            blockMedian.Add(block[block.Length / 2]);
            blockIndex.Add(bestIndex);
            blockMax.Add(best);
        }
        if (outliers.Count > MaxOutliers)
        {
            outliers = outliers.OrderByDescending(o => o.Ns).Take(MaxOutliers).OrderBy(o => o.Index).ToList();
        }
        return new PlotSeries(
            blockSize,
            [.. blockStart],
            [.. blockMedian],
            [.. blockIndex],
            [.. blockMax],
            OutlierThresholdNs,
            outliers.Select(o => o.Index).ToArray(),
            outliers.Select(o => o.Ns).ToArray());
    }

    private static void FullCollect()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    private static void BuildProgress(string label, int done, int n)
    {
        if (n >= 1_000_000)
        {
            Progress($"{label} build {100L * done / n,3}% ({done:N0} / {n:N0})");
        }
    }

    internal static void Progress(string message) =>
        Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} {message}");
}

/// <summary>Stopwatch ticks to time units.</summary>
internal static class Ticks
{
    public static double ToNs(long ticks) => ticks * (1e9 / Stopwatch.Frequency);

    public static double ToMs(long ticks) => ticks * (1e3 / Stopwatch.Frequency);
}
