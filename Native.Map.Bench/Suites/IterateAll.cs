using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>
/// Enumerate every entry of a map of N entries with foreach (struct enumerators on both sides).
/// One invocation makes 10^7 / N full passes, so the Mean is ns per entry visited, including each
/// pass's enumerator set-up.
/// </summary>
[BenchmarkCategory("IterateAll")]
[WholeTableJob]
public class IterateAll
{
    private Dictionary<long, long> _dictionary = [];
    private NativeMap<long, long>? _map;
    private int _passes;

    /// <summary>Entries in the map.</summary>
    [Params(1_000, 100_000, 1_000_000, 10_000_000)]
    public int N { get; set; }

    /// <summary>Builds both maps from empty.</summary>
    [GlobalSetup]
    public void Setup()
    {
        long[] keys = Keys.Hits(N);
        _dictionary = MapSets.Build(keys, () => new Dictionary<long, long>());
        _map = MapSets.Build(keys, () => new NativeMap<long, long>());
        _passes = Work.Repetitions(N);
    }

    /// <summary>Baseline: foreach over the Dictionary, summing keys and values.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.PerInvocation)]
    public long Dictionary()
    {
        long sum = 0;
        for (int p = 0; p < _passes; p++)
        {
            foreach (KeyValuePair<long, long> kv in _dictionary)
            {
                sum += kv.Key ^ kv.Value;
            }
        }
        return sum;
    }

    /// <summary>foreach over the NativeMap, summing keys and values.</summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public long NativeMap()
    {
        NativeMap<long, long> m = _map!;
        long sum = 0;
        for (int p = 0; p < _passes; p++)
        {
            foreach (KeyValuePair<long, long> kv in m)
            {
                sum += kv.Key ^ kv.Value;
            }
        }
        return sum;
    }

    /// <summary>Frees the NativeMap.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _map?.Dispose();
        _map = null;
    }
}
