using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Native.Map.Bench.Common;
using Native.Map.Bench.Demo;

namespace Native.Map.Bench.Floor;

/// <summary>
/// <c>floor</c>: what this machine's memory allows a lookup at N entries, measured beside the two maps
/// in one process. A lookup in a table far larger than the caches is a random read; how many of
/// those the core overlaps decides its cost, not the instructions around it. This command times
/// NativeMap and <see cref="Dictionary{TKey, TValue}"/> lookups and, over a native block exactly as
/// large as NativeMap's memory at N, the reads an ideal table would make for the same keys with the
/// same hash, so each map's figure can be set against the floor it cannot go below.
/// </summary>
/// <remarks>
/// Rows (each the median over rounds of ns per key, the same keys in the same order for every row):
/// <list type="bullet">
/// <item>Dictionary and NativeMap single lookups, shuffled hits and misses, and NativeMap's batched
/// <c>TryGetValues</c> (1,024 keys a call).</item>
/// <item>ideal table, 1 line: hash each miss key with NativeMap's hasher and read one 8-byte word at a
/// line chosen by the hash: a table that finds any key in one cache line (open addressing at its
/// best) could not do better in a loop of single lookups.</item>
/// <item>ideal table, 3 lines: the same with the three lines of a 144-byte bucket, the lines a
/// NativeMap lookup prefetches.</item>
/// <item>1 line, prefetched 16 keys ahead: as many reads in flight as the memory system takes (what a
/// batched lookup can reach).</item>
/// <item>dependent reads: each read's address comes from the one before (a pointer chase through a
/// random cycle of the block's lines): the latency of one read with nothing overlapped.</item>
/// </list>
/// The block is allocated with <see cref="NativeMemory.AlignedAlloc(nuint, nuint)"/> and touched in
/// full before timing; like NativeMap's default arrays it gets the kernel's ordinary 4 KiB pages.
/// </remarks>
internal static unsafe class FloorCommand
{
    public const string Command = "floor";

    private const int BatchSize = 1024;

    private const int PrefetchDistance = 16;

    private const int BucketBytes = 144;

    public const string Usage =
        """
        floor [--n N] [--rounds R]

          Times Dictionary<long, long> and NativeMap lookups at N entries beside the reads an ideal
          table would make over a block as large as NativeMap's memory (one line per lookup, three
          lines per lookup, prefetched, dependent), all in one process, and prints ns per key and
          each row's ratio to Dictionary's lookups.

          --n N        entries (default 10,000,000)
          --rounds R   timed rounds; the table shows the median (default 5)
        """;

    public static int Run(string[] args)
    {
        int n = 10_000_000;
        int rounds = 5;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--n":
                    n = DemoOptions.ParseCount(Next(args, ref i));
                    break;
                case "--rounds":
                    rounds = int.Parse(Next(args, ref i), CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"floor: unknown argument '{args[i]}'.\n\n{Usage}");
            }
        }
        if (n < 1_000 || rounds < 1)
        {
            throw new ArgumentException($"floor: --n must be at least 1,000 and --rounds at least 1.\n\n{Usage}");
        }
        Measure(n, rounds);
        return 0;
    }

    private static string Next(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"floor: {args[i - 1]} needs a value.\n\n{Usage}");

    private static void Measure(int n, int rounds)
    {
        long[] hits = Keys.Shuffled(Keys.Hits(n));
        long[] misses = Keys.Misses(n);
        var dict = new Dictionary<long, long>();
        using var map = new NativeMap<long, long>();
        foreach (long k in Keys.Hits(n))
        {
            dict[k] = k;
            map[k] = k;
        }
        NativeMapStats stats = map.GetStats();
        nuint lines = (nuint)(stats.NativeBytes / 64);
        nuint bucketMask = (nuint)stats.BucketCount - 1;
        byte* block = (byte*)NativeMemory.AlignedAlloc(lines * 64, 64);
        try
        {
            NativeMemory.Clear(block, lines * 64);
            LinkRandomCycle(block, lines);
            ulong seed = 0x5EED_F100_0000_0001;
            var rows = new (string Name, Func<long> Run)[]
            {
                ("Dictionary TryGetValue, hit", () => DictLookups(dict, hits)),
                ("Dictionary TryGetValue, miss", () => DictLookups(dict, misses)),
                ("NativeMap TryGetValue, hit", () => MapLookups(map, hits)),
                ("NativeMap TryGetValue, miss", () => MapLookups(map, misses)),
                ("NativeMap TryGetValues (batched), hit", () => MapBatched(map, hits)),
                ("NativeMap TryGetValues (batched), miss", () => MapBatched(map, misses)),
                ("ideal table: 1 line per lookup", () => OneLine(block, lines, misses, seed)),
                ("ideal table: 3 lines per lookup (a 144-byte bucket)", () => ThreeLines(block, bucketMask, misses, seed)),
                ("1 line per lookup, prefetched 16 keys ahead", () => OneLinePrefetched(block, lines, misses, seed)),
                ("dependent reads (each address from the last read)", () => Chase(block, n)),
            };
            var times = new List<double>[rows.Length];
            for (int r = 0; r < rows.Length; r++)
            {
                times[r] = [];
            }
            long sink = 0;
            for (int round = 0; round <= rounds; round++)
            {
                for (int r = 0; r < rows.Length; r++)
                {
                    long start = Stopwatch.GetTimestamp();
                    sink += rows[r].Run();
                    double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / n;
                    if (round > 0)
                    {
                        times[r].Add(ns); // round 0 warms the code and the caches' page tables
                    }
                }
            }
            double[] medians = times.Select(Median).ToArray();
            Print(n, rounds, stats, rows.Select(r => r.Name).ToArray(), medians, sink);
        }
        finally
        {
            NativeMemory.AlignedFree(block);
        }
        GC.KeepAlive(dict);
    }

    private static void Print(int n, int rounds, NativeMapStats stats, string[] names, double[] ns, long sink)
    {
        double dictHit = ns[0];
        double dictMiss = ns[1];
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Format(inv,
            "floor: N = {0:N0}, NativeMap {1:F0} MB native ({2:N0} buckets of {3} bytes and their overflow), median of {4} rounds, ns per key",
            n, stats.NativeBytes / 1e6, stats.BucketCount, BucketBytes, rounds));
        Console.WriteLine();
        Console.WriteLine("| reads | ns/key | / Dictionary hit | / Dictionary miss |");
        Console.WriteLine("| --- | --: | --: | --: |");
        for (int r = 0; r < names.Length; r++)
        {
            Console.WriteLine(string.Format(inv, "| {0} | {1:F1} | {2:F2}x | {3:F2}x |", names[r], ns[r], ns[r] / dictHit, ns[r] / dictMiss));
        }
        Console.WriteLine();
        Console.WriteLine(string.Format(inv, "(checksum {0})", sink));
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]) / 2;
    }

    /// <summary>
    /// Writes into the first word of every line the index of the next line of one random cycle through
    /// all lines (Sattolo's algorithm), so that a chase visits every line once in random order.
    /// </summary>
    private static void LinkRandomCycle(byte* block, nuint lines)
    {
        var order = new uint[lines];
        for (uint i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        ulong state = Keys.ShuffleSeed;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(Keys.SplitMix64(ref state) % (ulong)i); // j < i: one cycle
            (order[i], order[j]) = (order[j], order[i]);
        }
        for (int i = 0; i < order.Length; i++)
        {
            nuint from = order[i];
            nuint to = order[(i + 1) % order.Length];
            *(ulong*)(block + from * 64) = to;
        }
    }

    /// <summary>Line <c>hash * lines / 2^64</c>: every line of the block reachable, no power of two needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint LineOf(ulong hash, nuint lines) => (nuint)Math.BigMul(hash, (ulong)lines, out _);

    // DictLookups and MapLookups are the same loop on purpose: each map gets its own direct,
    // devirtualised call in its own method, as the demo's loops do; a shared helper would time an
    // interface or delegate call along with the lookup.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long DictLookups(Dictionary<long, long> dict, long[] keys)
    {
        long sum = 0;
        foreach (long k in keys)
        {
            dict.TryGetValue(k, out long v);
            sum += v;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long MapLookups(NativeMap<long, long> map, long[] keys)
    {
        long sum = 0;
        foreach (long k in keys)
        {
            map.TryGetValue(k, out long v);
            sum += v;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long MapBatched(NativeMap<long, long> map, long[] keys)
    {
        Span<long> values = stackalloc long[BatchSize];
        Span<bool> found = stackalloc bool[BatchSize];
        long sum = 0;
        for (int i = 0; i < keys.Length; i += BatchSize)
        {
            int c = Math.Min(BatchSize, keys.Length - i);
            sum += map.TryGetValues(keys.AsSpan(i, c), values[..c], found[..c]);
            sum += values[0];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long OneLine(byte* block, nuint lines, long[] keys, ulong seed)
    {
        long sum = 0;
        foreach (long k in keys)
        {
            ulong h = DefaultKeyHasher<long>.Hash(in k, seed);
            sum += *(long*)(block + LineOf(h, lines) * 64);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long ThreeLines(byte* block, nuint bucketMask, long[] keys, ulong seed)
    {
        long sum = 0;
        foreach (long k in keys)
        {
            ulong h = DefaultKeyHasher<long>.Hash(in k, seed);
            byte* b = block + ((nuint)h & bucketMask) * BucketBytes;
            sum += *(long*)b + *(long*)(b + 64) + *(long*)(b + 128);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long OneLinePrefetched(byte* block, nuint lines, long[] keys, ulong seed)
    {
        long sum = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (i + PrefetchDistance < keys.Length && Sse.IsSupported)
            {
                ulong ahead = DefaultKeyHasher<long>.Hash(in keys[i + PrefetchDistance], seed);
                Sse.Prefetch0(block + LineOf(ahead, lines) * 64);
            }
            ulong h = DefaultKeyHasher<long>.Hash(in keys[i], seed);
            sum += *(long*)(block + LineOf(h, lines) * 64);
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Chase(byte* block, int steps)
    {
        nuint line = 0;
        for (int i = 0; i < steps; i++)
        {
            line = (nuint)(*(ulong*)(block + line * 64));
        }
        return (long)line;
    }
}
