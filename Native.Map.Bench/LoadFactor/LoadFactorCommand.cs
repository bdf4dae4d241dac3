using System.Globalization;
using System.Text;
using System.Text.Json;
using Native.Map.Bench.Common;
using Native.Map.Bench.Demo;

namespace Native.Map.Bench.LoadFactor;

/// <summary>One row of the load-factor table (averages over trials).</summary>
internal sealed record LoadFactorRow(
    double LoadFactor,
    int B,
    int Trials,
    long EntriesPerTrial,
    double PercentOverflow,
    double OverflowBucketsPer100,
    double BytesPerEntry,
    double NativeBytesPerEntry,
    double HitProbe,
    double MissProbe);

/// <summary>
/// <c>loadfactor</c>: reproduces the table at the top of Go's src/runtime/map.go for NativeMap
/// (loadFactor, %overflow, bytes/entry, hitprobe, missprobe) at load factors 4.0 to 8.0, on maps
/// loaded to the maximum their load factor allows (the insert after the last one would start a
/// doubling), as Go measured it.
/// </summary>
/// <remarks>
/// The measuring runs in a child process started with <c>NATIVEMAP_COUNT_PROBES=1</c>: probe counting
/// is fixed at process start-up, so normal runs never pay for it. Columns:
/// <list type="bullet">
/// <item>%overflow: buckets whose chain has at least one overflow bucket, per 100 buckets (Go's
/// definition: "percentage of buckets which have an overflow bucket").</item>
/// <item>bytes/entry: Go's "overhead bytes used per key/elem pair": (buckets + overflow buckets) x
/// bucket size / entries - 16 (the key and value themselves). Preallocated but unused overflow buckets,
/// page rounding and bookkeeping are not counted, as in Go's table.</item>
/// <item>native B/entry: everything the map owns (GetStats().NativeBytes) / entries, key and value
/// included: what the process actually pays.</item>
/// <item>hitprobe / missprobe: filled slots examined per lookup of a present / absent key, counted by
/// the library's ProbeCounters in Go's order (tophash byte loop, overflow chain).</item>
/// </list>
/// </remarks>
internal static class LoadFactorCommand
{
    public const string Command = "loadfactor";

    public const string ChildCommand = "loadfactor-child";

    /// <summary>Go's table (src/runtime/map.go, Go 1.19–1.23), for side-by-side comparison.</summary>
    private static readonly (double Lf, double Overflow, double Bytes, double Hit, double Miss)[] Go =
    [
        (4.00, 2.13, 20.77, 3.00, 4.00),
        (4.50, 4.05, 17.30, 3.25, 4.50),
        (5.00, 6.85, 14.77, 3.50, 5.00),
        (5.50, 10.55, 12.94, 3.75, 5.50),
        (6.00, 15.27, 11.67, 4.00, 6.00),
        (6.50, 20.90, 10.79, 4.25, 6.50),
        (7.00, 27.14, 10.15, 4.50, 7.00),
        (7.50, 34.03, 9.73, 4.75, 7.50),
        (8.00, 41.10, 9.40, 5.00, 8.00),
    ];

    private const string Usage =
        """
        loadfactor [--b B] [--trials T] [--out DIR]

          NativeMap's version of the load-factor table in Go's map.go, for load factors 4.0 to 8.0.
          --b B        log2 of the bucket count of each map (default 16: 65,536 buckets)
          --trials T   maps per load factor, each with its own keys and seed (default 3)
          --out DIR    output folder for loadfactor.json and loadfactor.md (default artifacts/loadfactor)
        """;

    public static int Run(string[] args)
    {
        int b = 16, trials = 3;
        string outDir = Path.Combine("artifacts", "loadfactor");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--b": b = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--trials": trials = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outDir = args[++i]; break;
                case "--help" or "-h": Console.WriteLine(Usage); return 0;
                default: throw new ArgumentException($"loadfactor: unknown argument '{args[i]}'.\n\n{Usage}");
            }
        }
        if (b is < 4 or > 24 || trials < 1)
        {
            throw new ArgumentException($"loadfactor: --b must be 4..24 and --trials positive.\n\n{Usage}");
        }
        DemoChild.Progress($"loadfactor: child process with NATIVEMAP_COUNT_PROBES=1, B = {b}, {trials} trial(s) per load factor");
        (int exit, string output) = SelfProcess.Run(
            [ChildCommand, "--b", b.ToString(CultureInfo.InvariantCulture), "--trials", trials.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string?> { ["NATIVEMAP_COUNT_PROBES"] = "1" });
        if (exit != 0)
        {
            Console.Error.WriteLine($"loadfactor: the child process failed with exit code {exit}.");
            return 1;
        }
        List<LoadFactorRow> rows = JsonSerializer.Deserialize<List<LoadFactorRow>>(output, DemoJson.Compact) ?? [];
        string table = Render(rows);
        string intro =
            $"NativeMap<long, long>, maps of 2^{b} = {1 << b:N0} buckets loaded to the maximum their load factor allows " +
            $"(just before growth), {trials} trial(s) per row; Go's published values in parentheses.";
        Console.WriteLine(intro);
        Console.WriteLine(table);
        Console.WriteLine(Definitions);
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "loadfactor.json"), JsonSerializer.Serialize(rows, DemoJson.Indented));
        File.WriteAllText(
            Path.Combine(outDir, "loadfactor.md"),
            $"# NativeMap load-factor table\n\n- date: {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss zzz}\n- command: `{("loadfactor " + string.Join(' ', args)).TrimEnd()}`\n\n{intro}\n\n{table}\n{Definitions}\n");
        Console.WriteLine($"Wrote {Path.Combine(outDir, "loadfactor.md")} and loadfactor.json.");
        return 0;
    }

    private const string Definitions =
        """
        %overflow    buckets with at least one overflow bucket, per 100 buckets (Go's definition)
        ovf/100      overflow buckets per 100 buckets (longer chains count more than once)
        bytes/entry  Go's definition: (buckets + overflow buckets) x 144 B / entries - 16 B of key and value
        native B/e   all native bytes the map owns / entries, key and value included (preallocated tail, pages)
        hitprobe     filled slots examined per lookup of a present key (Go's byte loop order)
        missprobe    filled slots examined per lookup of an absent key
        """;

    private static string Render(List<LoadFactorRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| loadFactor | %overflow (Go) | ovf/100 | bytes/entry (Go) | native B/e | hitprobe (Go) | missprobe (Go) |");
        sb.AppendLine("| ---------: | -------------: | ------: | ---------------: | ---------: | ------------: | -------------: |");
        foreach (LoadFactorRow r in rows)
        {
            (double _, double overflow, double bytes, double hit, double miss) = Go.FirstOrDefault(g => Math.Abs(g.Lf - r.LoadFactor) < 1e-9);
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.LoadFactor,10:0.00} | {r.PercentOverflow,6:0.00} ({overflow,5:0.00}) | {r.OverflowBucketsPer100,7:0.00} | {r.BytesPerEntry,7:0.00} ({bytes,5:0.00}) | {r.NativeBytesPerEntry,10:0.00} | {r.HitProbe,5:0.00} ({hit:0.00}) | {r.MissProbe,6:0.00} ({miss:0.00}) |");
        }
        return sb.ToString();
    }

    /// <summary>The child: measures every load factor and writes the rows as JSON to stdout.</summary>
    public static int RunChild(string[] args)
    {
        int b = 16, trials = 3;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--b": b = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--trials": trials = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"{ChildCommand}: unknown argument '{args[i]}'.");
            }
        }
        if (!ProbeCounters.Enabled)
        {
            Console.Error.WriteLine($"{ChildCommand}: probe counting is off; start the process with NATIVEMAP_COUNT_PROBES=1.");
            return 1;
        }
        var rows = new List<LoadFactorRow>();
        for (int step = 0; step <= 8; step++)
        {
            double lf = 4.0 + step * 0.5;
            rows.Add(Measure(lf, b, trials));
            DemoChild.Progress($"loadfactor {lf:0.0}: done");
        }
        Console.Out.Write(JsonSerializer.Serialize(rows, DemoJson.Compact));
        return 0;
    }

    private static LoadFactorRow Measure(double lf, int b, int trials)
    {
        long buckets = 1L << b;
        int count = checked((int)Math.Floor(lf * buckets));
        int bucketSize = NativeMapLayout.Of<long, long>().BucketSize;
        double pctOverflow = 0, ovfPer100 = 0, bytesPerEntry = 0, nativePerEntry = 0, hitProbe = 0, missProbe = 0;
        for (int t = 0; t < trials; t++)
        {
            // Each trial its own keys (a different stretch of the splitmix64 stream) and its own map seed.
            long[] keys = Keys.Stream(count, skip: (long)t << 32);
            long[] misses = Keys.Stream(count, skip: ((long)t << 32) + count);
            using var map = new NativeMap<long, long>((int)Math.Min(int.MaxValue, 6.5 * buckets));
            if (map.GetStats().B != b)
            {
                throw new InvalidOperationException($"A capacity hint of 6.5 x 2^{b} gave B = {map.GetStats().B}.");
            }
            map.MaxLoadFactor = lf;
            for (int i = 0; i < keys.Length; i++)
            {
                map.Add(keys[i], i);
            }
            NativeMapStats s = map.GetStats();
            if (s.B != b || s.IsGrowing || s.GrowthsStarted != 0 || s.Count != count)
            {
                throw new InvalidOperationException($"Load factor {lf}: the map grew or lost entries ({s}).");
            }
            long chainsWithOverflow = 0;
            for (long bucket = 0; bucket < buckets; bucket++)
            {
                chainsWithOverflow += map.FirstOverflowOf(bucket) != 0 ? 1 : 0;
            }
            pctOverflow += 100.0 * chainsWithOverflow / buckets;
            ovfPer100 += 100.0 * s.OverflowBucketCount / buckets;
            bytesPerEntry += (double)(s.BucketCount + s.OverflowBucketCount) * bucketSize / count - 2 * sizeof(long);
            nativePerEntry += (double)s.NativeBytes / count;

            ProbeCounters.Reset();
            foreach (long k in keys)
            {
                if (!map.TryGetValue(k, out _))
                {
                    throw new InvalidOperationException("A present key was not found.");
                }
            }
            foreach (long k in misses)
            {
                if (map.TryGetValue(k, out _))
                {
                    throw new InvalidOperationException("An absent key was found.");
                }
            }
            (long hits, long hitProbes) = ProbeCounters.Hits;
            (long missLookups, long missProbes) = ProbeCounters.Misses;
            if (hits != count || missLookups != count)
            {
                throw new InvalidOperationException($"Probe counters saw {hits} hits and {missLookups} misses, expected {count} each.");
            }
            hitProbe += (double)hitProbes / hits;
            missProbe += (double)missProbes / missLookups;
        }
        return new LoadFactorRow(lf, b, trials, count, pctOverflow / trials, ovfPer100 / trials, bytesPerEntry / trials, nativePerEntry / trials, hitProbe / trials, missProbe / trials);
    }
}
