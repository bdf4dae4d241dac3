using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>
/// Insert N long -> long entries into a map created with capacity N, so no growth happens: the
/// cost of the capacity allocation plus N plain inserts. Same shape as <see cref="InsertFromEmpty"/>.
/// </summary>
[BenchmarkCategory("InsertPresized")]
[WholeTableJob]
public class InsertPresized
{
    private long[] _keys = [];
    private Dictionary<long, long>?[] _dictionaries = [];
    private NativeMap<long, long>?[] _maps = [];

    /// <summary>Entries per map, also the capacity hint.</summary>
    [Params(1_000, 100_000, 1_000_000, 10_000_000)]
    public int N { get; set; }

    /// <summary>Generates the keys (splitmix64, fixed seed).</summary>
    [GlobalSetup]
    public void Setup()
    {
        _keys = Keys.Hits(N);
        _dictionaries = new Dictionary<long, long>?[Work.Repetitions(N)];
        _maps = new NativeMap<long, long>?[Work.Repetitions(N)];
    }

    /// <summary>Baseline: Add into new Dictionary(N).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.PerInvocation)]
    public void Dictionary()
    {
        long[] keys = _keys;
        for (int r = 0; r < _dictionaries.Length; r++)
        {
            var d = new Dictionary<long, long>(keys.Length);
            for (int i = 0; i < keys.Length; i++)
            {
                d.Add(keys[i], i);
            }
            _dictionaries[r] = d;
        }
    }

    /// <summary>Add into new NativeMap(N).</summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public void NativeMap()
    {
        long[] keys = _keys;
        for (int r = 0; r < _maps.Length; r++)
        {
            var m = new NativeMap<long, long>(keys.Length);
            for (int i = 0; i < keys.Length; i++)
            {
                m.Add(keys[i], i);
            }
            _maps[r] = m;
        }
    }

    /// <summary>Drops the Dictionaries, disposes the NativeMaps.</summary>
    [IterationCleanup]
    public void Cleanup() => MapSets.Release(_dictionaries, _maps);
}
