using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Demo;

/// <summary>
/// <c>demo</c>: the scenario runner. Builds an N-entry long -> long index in NativeMap and in
/// Dictionary, each build in a child process of its own, and prints one side-by-side table.
/// </summary>
/// <remarks>
/// Per round, six children run one after another: a throughput run, a per-insert latency run and a
/// presized build for each map (nine with <c>--go</c>, which adds Go's own map, see
/// <see cref="GoContestant"/>).
/// Each round starts with the next map in turn, so no map always runs on a machine just warmed (or
/// disturbed) by another. The table shows medians over rounds; the JSON keeps every child's
/// figures. Every child reports a digest of the keys it generated, and the demo refuses a run whose
/// children did not all see the same keys.
/// </remarks>
internal static class DemoCommand
{
    public const string Command = "demo";

    private static readonly string[] Maps = ["NativeMap", "Dictionary"];

    public static int Run(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(DemoOptions.Usage);
            return 0;
        }
        DemoOptions o = DemoOptions.Parse(args);
        var total = Stopwatch.StartNew();
        Dictionary<string, string> machine = MachineInfo();
        Console.WriteLine($"NativeMap demo: N = {o.N:N0} long -> long entries, {o.Rounds} round(s), each measurement in its own process");
        if (o.HugePages is not null)
        {
            machine["NativeMap huge-page advice"] = $"forced {o.HugePages} (--huge-pages)";
        }
        Console.WriteLine($"  {machine["cpu"]}, {machine["cores"]} cores, {machine["runtime"]}, GC {machine["gc"]}, load average {ProcessMemory.LoadAverage():0.00}");
        GoContestant? go = o.GoTool is null ? null : GoContestant.Build(o.GoTool, o.Out);
        string[] contestants = go is null ? Maps : [.. Maps, GoContestant.Name];
        if (go is not null)
        {
            machine["go"] = $"{go.Version} (--go: Go's map[int64]int64 measured by Native.Map.Bench/GoMap)";
            Console.WriteLine($"  third contestant: {go.Version}, map[int64]int64");
        }

        var children = new List<ChildResult>();
        var order = new List<string>();
        for (int round = 1; round <= o.Rounds; round++)
        {
            string[] maps = [.. contestants.Skip((round - 1) % contestants.Length), .. contestants.Take((round - 1) % contestants.Length)];
            var sequence = new List<string>();
            foreach (string mode in new[] { "throughput", "latency", "presized" })
            {
                foreach (string map in maps)
                {
                    children.Add(RunChild(map, mode, o, round, go));
                    sequence.Add($"{map}/{mode}");
                }
            }
            order.Add($"round {round}: {string.Join(", ", sequence)}");
        }
        ChildResult? telemetry = o.Telemetry ? RunChild("NativeMap", "telemetry", o, 1) : null;
        if (telemetry is not null)
        {
            children.Add(telemetry);
            order.Add("then NativeMap/telemetry (every Native.Map instrument enabled; only its growth table is used)");
        }

        CheckSameKeys(children);
        DemoReport report = Summarise(o, machine, children, order);
        Console.WriteLine();
        Console.WriteLine($"Median of {o.Rounds} round(s), N = {o.N:N0}:");
        Console.WriteLine(report.TableMarkdown());
        if (go is not null)
        {
            Console.WriteLine(DemoReport.GoColumnNote);
            Console.WriteLine();
        }
        Console.WriteLine("NativeMap growths during the build (round 1, per-insert-timed run; from the Native.Map meter):");
        Console.Write(DemoReport.GrowthCompact(report.Growths));
        if (report.TelemetryGrowths is { } tg)
        {
            Console.WriteLine();
            Console.WriteLine("--telemetry: NativeMap growths with every Native.Map instrument enabled:");
            Console.WriteLine(DemoReport.GrowthMarkdown(tg, withCounters: true));
        }
        Console.WriteLine();
        Console.WriteLine(report.TargetsMarkdown());

        Directory.CreateDirectory(o.Out);
        string json = Path.Combine(o.Out, "demo.json");
        string md = Path.Combine(o.Out, "demo.md");
        string png = Path.Combine(o.Out, "latency.png");
        File.WriteAllText(json, JsonSerializer.Serialize(report with { Children = [.. report.Children.Select(c => c with { Plot = null })] }, DemoJson.Indented));
        File.WriteAllText(md, RenderMarkdown(report));
        var series = new List<(string, PlotSeries, ScottPlot.Color)>();
        foreach ((string map, ScottPlot.Color color) in new[] { ("Dictionary", ScottPlot.Colors.OrangeRed), (GoContestant.Name, ScottPlot.Colors.SeaGreen), ("NativeMap", ScottPlot.Colors.RoyalBlue) })
        {
            ChildResult? c = children.FirstOrDefault(c => c.Map == map && c.Mode == "latency" && c.Round == 1);
            if (c?.Plot is { } p)
            {
                series.Add((map, p, color));
            }
        }
        LatencyPlot.Write(png, o.N, series);
        Console.WriteLine($"Wrote {json}, {md} and {png} ({total.Elapsed.TotalSeconds:N0} s in all).");
        return 0;
    }

    /// <summary>Runs one child (the Go map's through <paramref name="go"/>) and reads its result.</summary>
    private static ChildResult RunChild(string map, string mode, DemoOptions o, int round, GoContestant? go = null)
    {
        var sw = Stopwatch.StartNew();
        DemoChild.Progress($"starting {map} {mode} run, round {round}");
        (int exit, string output) = map == GoContestant.Name
            ? go!.Run(mode, o.N, round, o.Quick)
            : RunDotNetChild(map, mode, o, round);
        if (exit != 0)
        {
            throw new InvalidOperationException($"The {map} {mode} child process failed with exit code {exit}.");
        }
        ChildResult result = JsonSerializer.Deserialize<ChildResult>(output, DemoJson.Compact)
            ?? throw new InvalidOperationException($"The {map} {mode} child wrote no result.");
        DemoChild.Progress($"finished {map} {mode} run, round {round}, in {sw.Elapsed.TotalSeconds:N1} s");
        return result;
    }

    private static (int ExitCode, string Output) RunDotNetChild(string map, string mode, DemoOptions o, int round)
    {
        List<string> args =
        [
            DemoChild.Command, "--map", map, "--mode", mode, "--n", o.N.ToString(CultureInfo.InvariantCulture),
            "--round", round.ToString(CultureInfo.InvariantCulture), "--phase-ms", o.Quick ? "100" : "250",
        ];
        if (o.HugePages is not null)
        {
            args.AddRange(["--huge-pages", o.HugePages]);
        }
        return SelfProcess.Run(
            args,
            new Dictionary<string, string?>
            {
                // The demo measures the code users run: no probe counting.
                ["NATIVEMAP_COUNT_PROBES"] = null,
                // Start tiered compilation's call counting at once instead of after 100 ms of quiet, so the
                // warm-up reaches tier-1 code in fewer rounds. Start-up only: steady-state code is the same.
                ["DOTNET_TC_CallCountingDelayMs"] = "0",
            });
    }

    /// <summary>Refuses the run unless every child of a mode generated the same keys (same digest).</summary>
    private static void CheckSameKeys(List<ChildResult> children)
    {
        foreach (IGrouping<string, ChildResult> mode in children.GroupBy(c => c.Mode == "telemetry" ? "latency" : c.Mode))
        {
            ulong first = mode.First().KeyDigest;
            if (mode.FirstOrDefault(c => c.KeyDigest != first) is { } other)
            {
                throw new InvalidOperationException(
                    $"The {other.Map} {other.Mode} child (round {other.Round}) generated other keys than the {mode.First().Map} one " +
                    $"(key digest 0x{other.KeyDigest:X16} against 0x{first:X16}): the figures would not be side by side.");
            }
        }
    }

    private static DemoReport Summarise(DemoOptions o, Dictionary<string, string> machine, List<ChildResult> children, List<string> order)
    {
        List<ChildResult> Of(string map, string mode) => children.Where(c => c.Map == map && c.Mode == mode).ToList();
        // goPick: what the Go map's column shows (default: the same field; null where the row does not apply to Go).
        MetricRow Row(string metric, string unit, string mode, Func<ChildResult, double?> pick, Func<ChildResult, double?>? goPick = null) =>
            new(metric, unit, Median(Of("NativeMap", mode).Select(pick)), Median(Of("Dictionary", mode).Select(pick)), mode)
            {
                Go = Median(Of(GoContestant.Name, mode).Select(goPick ?? pick)),
            };
        // NativeMap's batched call against Dictionary's single-key calls (it has no batched ones).
        MetricRow Batched(string metric, Func<ChildResult, double?> native, Func<ChildResult, double?> dictionary, string mode = "throughput") =>
            new(metric, "ns/op", Median(Of("NativeMap", mode).Select(native)), Median(Of("Dictionary", mode).Select(dictionary)), mode);

        const double MB = 1024 * 1024;
        var table = new List<MetricRow>
        {
            Row("insert from empty", "ns/op", "throughput", c => c.InsertNsPerOp),
            Row("per-insert latency p50", "ns", "latency", c => c.Latency?.P50Ns),
            Row("per-insert latency p99", "ns", "latency", c => c.Latency?.P99Ns),
            Row("per-insert latency p99.9", "ns", "latency", c => c.Latency?.P999Ns),
            Row("per-insert latency p99.99", "ns", "latency", c => c.Latency?.P9999Ns),
            Row("per-insert latency max", "ns", "latency", c => c.Latency?.MaxNs),
            Row("inserts slower than 1 ms", "count", "latency", c => c.Latency?.Over1Ms),
            Row("insert presized (capacity N)", "ns/op", "presized", c => c.InsertPresizedNsPerOp),
            Row("lookup hit, shuffled", "ns/op", "throughput", c => c.LookupHitNs),
            Row("lookup miss, shuffled", "ns/op", "throughput", c => c.LookupMissNs),
            Row("iterate all", "ns/entry", "throughput", c => c.IterateNs),
            Row("remove all, shuffled", "ns/op", "throughput", c => c.RemoveNs),
            Batched("insert presized, SetValues (Dictionary: single inserts)", c => c.InsertPresizedBatchedNs, c => c.InsertPresizedNsPerOp, "presized"),
            Batched("lookup hit, TryGetValues (Dictionary: single lookups)", c => c.LookupHitBatchedNs, c => c.LookupHitNs),
            Batched("lookup miss, TryGetValues (Dictionary: single lookups)", c => c.LookupMissBatchedNs, c => c.LookupMissNs),
            Batched("remove all, RemoveKeys (Dictionary: single removes)", c => c.RemoveBatchedNs, c => c.RemoveNs),
            Row("gen0 collections during build", "count", "throughput", c => c.Gen0, _ => null),
            Row("gen1 collections during build", "count", "throughput", c => c.Gen1, _ => null),
            Row("gen2 collections during build", "count", "throughput", c => c.Gen2, c => c.GcCycles),
            Row("GC pause during build", "ms", "throughput", c => c.GcPauseMs),
            Row("gen2 collections during the per-insert-timed build", "count", "latency", c => c.Gen2, c => c.GcCycles),
            Row("GC pause during the per-insert-timed build", "ms", "latency", c => c.GcPauseMs),
            Row("managed bytes allocated during build", "MB", "throughput", c => c.ManagedAllocatedBytes / MB),
            Row("managed heap growth after build (live, after full GC)", "MB", "throughput", c => c.ManagedLiveBytes / MB),
            Row("native bytes after build", "MB", "throughput", c => c.NativeBytes / MB),
            Row("bytes per entry (native + managed live)", "B/entry", "throughput", c => (double)(c.NativeBytes + c.ManagedLiveBytes) / c.N),
            Row("minor page faults during build", "count", "throughput", c => c.MinorPageFaults < 0 ? null : c.MinorPageFaults),
            Row("process RSS before build", "MB", "throughput", c => c.RssBeforeBuildBytes / MB),
            Row("process peak RSS during build", "MB", "throughput", c => c.PeakRssBytes / MB),
            Row("peak RSS added by the build", "MB", "throughput", c => (c.PeakRssBytes - c.RssBeforeBuildBytes) / MB),
        };

        List<GrowthEvent> growths = children.FirstOrDefault(c => c.Map == "NativeMap" && c.Mode == "latency" && c.Round == 1)?.Growths ?? [];
        List<GrowthEvent>? telemetryGrowths = children.FirstOrDefault(c => c.Mode == "telemetry")?.Growths;

        return new DemoReport
        {
            Date = DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture),
            Command = string.Join(' ', Environment.GetCommandLineArgs().Skip(1).SkipWhile(a => a != Command)),
            Machine = machine,
            N = o.N,
            Rounds = o.Rounds,
            ProcessOrder = order,
            Table = table,
            Growths = growths,
            TelemetryGrowths = telemetryGrowths,
            Targets = Targets(table, children),
            Children = children,
        };
    }

    /// <summary>The targets of issues #3 and #4 (the batched ones are #4's), evaluated on this run's medians (they are stated for N = 10^7).</summary>
    private static List<TargetCheck> Targets(List<MetricRow> table, List<ChildResult> children)
    {
        MetricRow Find(string metric) => table.First(r => r.Metric == metric);
        // A check on a ratio: met when it is known and passes; "n/a" (not met) when a side is missing.
        static TargetCheck RatioCheck(string target, double? ratio, Func<double, bool> met) =>
            ratio is double x
                ? new TargetCheck(target, $"{x.ToString(x < 0.1 ? "0.0000" : "0.00", CultureInfo.InvariantCulture)}x", met(x))
                : new TargetCheck(target, "n/a", false);
        TargetCheck Ratio(string target, string metric, double limit) =>
            RatioCheck($"{target} <= {limit.ToString("0.00", CultureInfo.InvariantCulture)}x Dictionary", Find(metric).Ratio, x => x <= limit);
        List<ChildResult> native = children.Where(c => c.Map == "NativeMap" && c.Mode is "throughput" or "latency").ToList();
        int gen2 = native.Count == 0 ? 0 : native.Max(c => c.Gen2);
        double heapMb = native.Where(c => c.Mode == "throughput").Select(c => c.ManagedLiveBytes / 1048576.0).DefaultIfEmpty(0).Max();
        double nativePerEntry = Find("native bytes after build").NativeMap is double nb ? nb * 1048576.0 / children[0].N : double.NaN;
        List<TargetCheck> checks =
        [
            Ratio("lookup hit", "lookup hit, shuffled", 0.40),
            Ratio("lookup miss", "lookup miss, shuffled", 0.30),
            Ratio("insert from empty", "insert from empty", 0.80),
            Ratio("insert presized", "insert presized (capacity N)", 0.80),
            Ratio("insert presized, batched (SetValues)", "insert presized, SetValues (Dictionary: single inserts)", 0.80),
            Ratio("remove", "remove all, shuffled", 0.50),
            Ratio("remove, batched (RemoveKeys)", "remove all, RemoveKeys (Dictionary: single removes)", 0.50),
            Ratio("batched lookup hit", "lookup hit, TryGetValues (Dictionary: single lookups)", 0.15),
            Ratio("batched lookup miss", "lookup miss, TryGetValues (Dictionary: single lookups)", 0.15),
            Ratio("iterate", "iterate all", 3.0),
            Ratio("max single-insert latency", "per-insert latency max", 0.01),
            new TargetCheck("zero gen2 collections caused by NativeMap (any NativeMap build)", $"{gen2} (max over NativeMap runs)", gen2 == 0),
            new TargetCheck("managed heap growth < 1 MB (NativeMap)", $"{heapMb.ToString("0.000", CultureInfo.InvariantCulture)} MB (max over rounds)", heapMb < 1),
            new TargetCheck("native bytes per entry <= 32", $"{nativePerEntry.ToString("0.0", CultureInfo.InvariantCulture)} B (median)", nativePerEntry <= 32),
        ];
        if (children.Any(c => c.Map == GoContestant.Name))
        {
            // Issue #4's title: ahead of Go's own map on every workload (single-key calls against single-key calls).
            foreach ((string workload, string metric) in new[]
            {
                ("insert from empty", "insert from empty"), ("insert presized", "insert presized (capacity N)"), ("lookup hit", "lookup hit, shuffled"), ("lookup miss", "lookup miss, shuffled"),
                ("iterate", "iterate all"), ("remove", "remove all, shuffled"), ("max single-insert latency", "per-insert latency max"),
            })
            {
                checks.Add(RatioCheck($"{workload}: ahead of Go's map (< 1x Go)", Find(metric).RatioToGo, x => x < 1));
            }
        }
        return checks;
    }

    private static double? Median(IEnumerable<double?> values)
    {
        double[] v = values.Where(x => x.HasValue).Select(x => x!.Value).Order().ToArray();
        if (v.Length == 0)
        {
            return null;
        }
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string RenderMarkdown(DemoReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# NativeMap demo: {r.N:N0} long -> long entries");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- date: {r.Date}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- command: `{r.Command}`");
        foreach ((string k, string v) in r.Machine)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {k}: {v}");
        }
        sb.AppendLine(CultureInfo.InvariantCulture, $"- {r.Rounds} round(s); every measurement in its own process, in this order:");
        foreach (string line in r.ProcessOrder)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  - {line}");
        }
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"## Side by side (median of {r.Rounds} round(s))");
        sb.AppendLine();
        sb.AppendLine(r.TableMarkdown());
        if (r.Table.Any(row => row.Go is not null))
        {
            sb.AppendLine(DemoReport.GoColumnNote);
            sb.AppendLine();
        }
        ChildResult? l = r.Children.FirstOrDefault(c => c.Mode == "latency");
        if (l?.Latency is { } lat)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Per-insert latencies include one clock read (Stopwatch.GetTimestamp; its median cost on this machine: {lat.TimerOverheadNs:0} ns).");
            sb.AppendLine();
        }
        sb.AppendLine("## Against the targets of issues #3 and #4");
        sb.AppendLine();
        sb.AppendLine(r.TargetsMarkdown());
        sb.AppendLine("## NativeMap growths during the build (round 1, per-insert-timed run)");
        sb.AppendLine();
        sb.AppendLine(DemoReport.GrowthMarkdown(r.Growths, withCounters: false));
        if (r.TelemetryGrowths is { } tg)
        {
            sb.AppendLine("## --telemetry: growths with every Native.Map instrument enabled");
            sb.AppendLine();
            sb.AppendLine(DemoReport.GrowthMarkdown(tg, withCounters: true));
        }
        sb.AppendLine("## Every round");
        sb.AppendLine();
        sb.AppendLine(r.RoundsMarkdown());
        sb.AppendLine("![per-insert latency](latency.png)");
        return sb.ToString();
    }

    /// <summary>
    /// The git commit of the working tree the demo runs from, and whether the library has uncommitted
    /// changes (the library changes under the benchmarks: a figure means little without its source).
    /// </summary>
    private static string SourceRevision()
    {
        string? head = Git("rev-parse --short HEAD");
        if (head is null)
        {
            return "unknown (git not available)";
        }
        string? dirty = Git("status --porcelain -- Native.Map");
        return string.IsNullOrWhiteSpace(dirty) ? $"commit {head}, Native.Map/ clean" : $"commit {head}, Native.Map/ with uncommitted changes";

        static string? Git(string arguments)
        {
            try
            {
                var psi = new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                using Process p = Process.Start(psi)!;
                string output = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit();
                return p.ExitCode == 0 ? output : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }
    }

    private static Dictionary<string, string> MachineInfo()
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        string thp = File.Exists("/sys/kernel/mm/transparent_hugepage/enabled") ? File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Trim() : "n/a";
        bool concurrent = AppContext.TryGetSwitch("System.GC.Concurrent", out bool c) ? c : true;
        return new Dictionary<string, string>
        {
            ["cpu"] = cpu,
            ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["memory"] = $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB",
            ["os"] = RuntimeInformation.OSDescription,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
            ["gc"] = $"{(GCSettings.IsServerGC ? "server" : "workstation")}, {(concurrent ? "concurrent" : "non-concurrent")}",
            ["transparent huge pages"] = thp,
            ["stopwatch"] = $"{Stopwatch.Frequency:N0} ticks/s",
            ["source"] = SourceRevision(),
        };
    }
}
