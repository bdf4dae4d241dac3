using System.Globalization;

namespace Native.Map.Bench.Demo;

/// <summary>Command line of <c>demo</c>.</summary>
internal sealed record DemoOptions
{
    public int N { get; init; } = 10_000_000;

    public int Rounds { get; init; } = 3;

    public string Out { get; init; } = Path.Combine("artifacts", "demo");

    public bool Telemetry { get; init; }

    public bool Quick { get; init; }

    /// <summary>null: the library's default; otherwise "on"/"off" for NativeMap's huge-page advice (a diagnostic).</summary>
    public string? HugePages { get; init; }

    /// <summary>The Go tool that builds the Go map's child (<c>--go [TOOL]</c>); null: no Go contestant.</summary>
    public string? GoTool { get; init; }

    public const string Usage =
        """
        demo [--n N] [--quick] [--rounds R] [--out DIR] [--telemetry] [--go [TOOL]]

          Builds an N-entry long -> long index in NativeMap and in Dictionary<long, long>, each
          build in its own child process (per round and map: a build from empty timed whole, then
          lookups, iteration and removal; a build with a clock read per insert; a presized
          build), and prints one side-by-side table (also written to DIR as demo.json, demo.md
          and latency.png).

          --n N         entries (default 10,000,000)
          --quick       N = 100,000 (a smoke test; still 3 rounds)
          --rounds R    rounds of child processes, each starting with the next map (default 3);
                        the table shows the median of the rounds
          --out DIR     output folder (default artifacts/demo)
          --telemetry   also run a NativeMap build with every Native.Map instrument enabled and
                        print its growth table with evacuated / overflow bucket counts
          --go [TOOL]   also measure Go's own map[int64]int64 (the design NativeMap ports) with the
                        same keys, each round in processes of its own, and add a Go column and
                        NativeMap / Go ratios; TOOL is the go command that builds the Go child from
                        Native.Map.Bench/GoMap (default: go on the PATH). Go 1.19-1.23 maps are
                        the bucket design; Go 1.24 replaced it with Swiss tables
          --huge-pages on|off
                        diagnostic: force NativeMap's madvise(MADV_HUGEPAGE) on large bucket arrays
                        on or off (default: whatever the library does)
        """;

    public static DemoOptions Parse(string[] args)
    {
        var o = new DemoOptions();
        bool nGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--n":
                    o = o with { N = ParseCount(Next(args, ref i)) };
                    nGiven = true;
                    break;
                case "--quick":
                    o = o with { Quick = true };
                    break;
                case "--rounds":
                    o = o with { Rounds = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture) };
                    break;
                case "--out":
                    o = o with { Out = Next(args, ref i) };
                    break;
                case "--telemetry":
                    o = o with { Telemetry = true };
                    break;
                case "--go":
                    o = o with { GoTool = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "go" };
                    break;
                case "--huge-pages":
                    string hp = Next(args, ref i);
                    o = hp is "on" or "off" ? o with { HugePages = hp } : throw new ArgumentException($"demo: --huge-pages takes on or off.\n\n{Usage}");
                    break;
                default:
                    throw new ArgumentException($"demo: unknown argument '{args[i]}'.\n\n{Usage}");
            }
        }
        if (o.Quick && !nGiven)
        {
            o = o with { N = 100_000 };
        }
        if (o.N < 1 || o.Rounds < 1)
        {
            throw new ArgumentException($"demo: --n and --rounds must be positive.\n\n{Usage}");
        }
        return o;
    }

    private static string Next(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"demo: {args[i - 1]} needs a value.\n\n{Usage}");

    /// <summary>Parses 10000000, 10_000_000, 1e7 or 10M.</summary>
    internal static int ParseCount(string s)
    {
        s = s.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        double scale = 1;
        if (s.EndsWith('k') || s.EndsWith('K'))
        {
            scale = 1e3;
            s = s[..^1];
        }
        else if (s.EndsWith('m') || s.EndsWith('M'))
        {
            scale = 1e6;
            s = s[..^1];
        }
        double v = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) * scale;
        return checked((int)v);
    }
}
