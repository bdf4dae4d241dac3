using System.Globalization;
using System.Text;

namespace Native.Map.Bench.Demo;

/// <summary>One row of the side-by-side table: the median over rounds for each map.</summary>
internal sealed record MetricRow(string Metric, string Unit, double? NativeMap, double? Dictionary, string Run)
{
    /// <summary>Go's map (<c>demo --go</c>), or null when it did not run or the row does not apply to it.</summary>
    public double? Go { get; init; }

    /// <summary>NativeMap / Dictionary, or null when the ratio has no meaning (a zero baseline).</summary>
    public double? Ratio => NativeMap is double a && Dictionary is double b && b != 0 ? a / b : null;

    /// <summary>NativeMap / Go, or null when Go did not run or its figure is zero.</summary>
    public double? RatioToGo => NativeMap is double a && Go is double g && g != 0 ? a / g : null;
}

/// <summary>One of the targets (issues #3 and #4), checked against this run.</summary>
internal sealed record TargetCheck(string Target, string Measured, bool Met);

/// <summary>Everything the demo writes: the table, the growths, the checks and every child's raw result.</summary>
internal sealed record DemoReport
{
    public required string Date { get; init; }

    public required string Command { get; init; }

    public required Dictionary<string, string> Machine { get; init; }

    public required int N { get; init; }

    public required int Rounds { get; init; }

    public required List<string> ProcessOrder { get; init; }

    public required List<MetricRow> Table { get; init; }

    public required List<GrowthEvent> Growths { get; init; }

    public List<GrowthEvent>? TelemetryGrowths { get; init; }

    public required List<TargetCheck> Targets { get; init; }

    public required List<ChildResult> Children { get; init; }

    /// <summary>What the Go column shows where its rows differ from the .NET maps' (printed under the table when Go ran).</summary>
    public const string GoColumnNote =
        "Go map column (demo --go): Go's own map[int64]int64, in processes of its own with the same keys. Its gen2 rows " +
        "count Go's GC cycles (Go's collector is not generational: every cycle marks the whole heap); gen0/gen1 and the " +
        "batched rows do not apply; its map lives in Go's heap, so its size is in the managed rows and its native bytes are 0.";

    /// <summary>The side-by-side table as Markdown (also what the console shows); with a Go column when Go ran.</summary>
    public string TableMarkdown()
    {
        bool go = Table.Any(r => r.Go is not null);
        var rows = new List<string[]>
        {
            go
                ? ["metric", "NativeMap", "Dictionary", "Go map", "NativeMap / Dictionary", "NativeMap / Go"]
                : ["metric", "NativeMap", "Dictionary", "NativeMap / Dictionary"],
        };
        foreach (MetricRow r in Table)
        {
            rows.Add(go
                ? [$"{r.Metric} ({r.Unit})", Format(r.NativeMap, r.Unit), Format(r.Dictionary, r.Unit), Format(r.Go, r.Unit), FormatRatio(r), FormatRatio(r.RatioToGo, r.NativeMap, r.Go)]
                : [$"{r.Metric} ({r.Unit})", Format(r.NativeMap, r.Unit), Format(r.Dictionary, r.Unit), FormatRatio(r)]);
        }
        return Markdown(rows, rightAlign: [false, .. rows[0].Skip(1).Select(_ => true)]);
    }

    /// <summary>The growth list as Markdown.</summary>
    public static string GrowthMarkdown(List<GrowthEvent> growths, bool withCounters)
    {
        var rows = new List<string[]>();
        string[] head = ["#", "kind", "started at insert", "finished at insert", "inserts to finish", "duration"];
        rows.Add(withCounters ? [.. head, "buckets evacuated", "overflow buckets allocated during growth"] : head);
        foreach (GrowthEvent g in growths)
        {
            string[] row =
            [
                g.Number.ToString(CultureInfo.InvariantCulture),
                g.Kind,
                g.StartIndex.ToString("N0", CultureInfo.InvariantCulture),
                g.EndIndex < 0 ? "(still growing)" : g.EndIndex.ToString("N0", CultureInfo.InvariantCulture),
                g.InsertsToFinish < 0 ? "-" : g.InsertsToFinish.ToString("N0", CultureInfo.InvariantCulture),
                g.DurationMs < 0 ? "-" : $"{g.DurationMs.ToString("0.###", CultureInfo.InvariantCulture)} ms",
            ];
            rows.Add(withCounters
                ? [.. row, g.BucketsEvacuated.ToString("N0", CultureInfo.InvariantCulture), g.OverflowBucketsAllocated.ToString("N0", CultureInfo.InvariantCulture)]
                : row);
        }
        return Markdown(rows, rightAlign: [.. rows[0].Select((_, i) => i != 1)]);
    }

    /// <summary>One line per growth, for the console.</summary>
    public static string GrowthCompact(List<GrowthEvent> growths)
    {
        var sb = new StringBuilder();
        foreach (GrowthEvent g in growths)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  #{g.Number,-2} {g.Kind,-9} started at insert {g.StartIndex,12:N0}");
            sb.Append(g.EndIndex < 0
                ? "   still growing when the build ended"
                : string.Create(CultureInfo.InvariantCulture, $", finished {g.InsertsToFinish,10:N0} inserts later, {g.DurationMs,9:0.###} ms"));
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>The targets as a Markdown table.</summary>
    public string TargetsMarkdown()
    {
        var rows = new List<string[]> { new[] { "target (issues #3 and #4, at N = 10^7)", $"measured at N = {N:N0}", "met?" } };
        foreach (TargetCheck t in Targets)
        {
            rows.Add([t.Target, t.Measured, t.Met ? "yes" : "**no**"]);
        }
        return Markdown(rows, rightAlign: [false, true, false]);
    }

    /// <summary>The per-round spread of the main figures, to show how noisy the machine was.</summary>
    public string RoundsMarkdown()
    {
        var rows = new List<string[]>
        {
            new[] { "round", "map", "insert ns/op", "presized ns/op", "p99.99 ns", "max insert", "lookup hit ns", "lookup miss ns", "iterate ns", "remove ns", "batched hit / miss / remove ns", "gen0/1/2", "peak RSS MB", "load avg" },
        };
        foreach (IGrouping<(int Round, string Map), ChildResult> g in Children
                     .Where(c => c.Mode is "throughput" or "latency" or "presized")
                     .GroupBy(c => (c.Round, c.Map))
                     .OrderBy(g => g.Key.Round)
                     .ThenBy(g => g.Key.Map, StringComparer.Ordinal))
        {
            ChildResult? t = g.FirstOrDefault(c => c.Mode == "throughput");
            ChildResult? l = g.FirstOrDefault(c => c.Mode == "latency");
            ChildResult? p = g.FirstOrDefault(c => c.Mode == "presized");
            rows.Add(
            [
                g.Key.Round.ToString(CultureInfo.InvariantCulture),
                g.Key.Map,
                F(t?.InsertNsPerOp, "0.0"),
                p?.InsertPresizedBatchedNs is null ? F(p?.InsertPresizedNsPerOp, "0.0") : $"{F(p.InsertPresizedNsPerOp, "0.0")} ({F(p.InsertPresizedBatchedNs, "0.0")} batched)",
                F(l?.Latency?.P9999Ns, "N0"),
                l?.Latency is { } lat ? LatencyPlot.FormatNs(lat.MaxNs) : "-",
                F(t?.LookupHitNs, "0.0"),
                F(t?.LookupMissNs, "0.0"),
                F(t?.IterateNs, "0.00"),
                F(t?.RemoveNs, "0.0"),
                t?.LookupHitBatchedNs is null ? "-" : $"{F(t.LookupHitBatchedNs, "0.0")} / {F(t.LookupMissBatchedNs, "0.0")} / {F(t.RemoveBatchedNs, "0.0")}",
                t is null ? "-" : t.GcCycles is int cycles ? $"{cycles} GC cycles" : $"{t.Gen0}/{t.Gen1}/{t.Gen2}",
                F(t?.PeakRssBytes / 1048576.0, "N0"),
                F(t?.LoadAverage, "0.00"),
            ]);
        }
        return Markdown(rows, rightAlign: [.. rows[0].Select((_, i) => i != 1)]);

        static string F(double? v, string format) => v is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "-";
    }

    internal static string Format(double? value, string unit)
    {
        if (value is not double v)
        {
            return "-";
        }
        string format = unit switch
        {
            "count" => v == Math.Floor(v) ? "N0" : "N1",
            "ns" or "ns/op" or "ns/entry" => v >= 10_000 ? "N0" : "N1",
            "ms" => v >= 100 ? "N0" : "N2",
            "MB" => v >= 100 ? "N0" : "N2",
            "B/entry" => "N1",
            _ => "G4",
        };
        return v.ToString(format, CultureInfo.InvariantCulture);
    }

    private static string FormatRatio(MetricRow r) => FormatRatio(r.Ratio, r.NativeMap, r.Dictionary);

    private static string FormatRatio(double? ratio, double? value, double? baseline)
    {
        if (ratio is double x)
        {
            return Math.Abs(x) < 0.0001 ? "~0x" : x.ToString(Math.Abs(x) >= 0.1 ? "0.00" : "0.0000", CultureInfo.InvariantCulture) + "x";
        }
        if (value is null || baseline is null)
        {
            return "-";
        }
        return value == 0 && baseline == 0 ? "both 0" : "n/a (baseline 0)";
    }

    private static string Markdown(List<string[]> rows, bool[] rightAlign)
    {
        int cols = rows[0].Length;
        int[] width = new int[cols];
        foreach (string[] row in rows)
        {
            for (int c = 0; c < cols; c++)
            {
                width[c] = Math.Max(width[c], Math.Max(3, row[c].Length));
            }
        }
        var sb = new StringBuilder();
        for (int r = 0; r < rows.Count; r++)
        {
            sb.Append('|');
            for (int c = 0; c < cols; c++)
            {
                string cell = rows[r][c];
                sb.Append(' ').Append(rightAlign[c] && r > 0 ? cell.PadLeft(width[c]) : cell.PadRight(width[c])).Append(" |");
            }
            sb.AppendLine();
            if (r == 0)
            {
                sb.Append('|');
                for (int c = 0; c < cols; c++)
                {
                    sb.Append(rightAlign[c] ? $" {new string('-', width[c] - 1)}: |" : $" {new string('-', width[c])} |");
                }
                sb.AppendLine();
            }
        }
        return sb.ToString();
    }
}
