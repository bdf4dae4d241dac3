using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Suites;

/// <summary>
/// What <see cref="InsertFromEmpty"/> and <see cref="InsertPresized"/> share: one invocation builds
/// 10^7 / N maps of N long -> long entries, each created with <see cref="Capacity"/>, and keeps them
/// until the iteration ends (built to be used: a Dictionary pays for promoting what it keeps, a
/// NativeMap for nothing); NativeMaps are disposed in [IterationCleanup], outside the measurement.
/// </summary>
public abstract class InsertSuite
{
    /// <summary>The keys, splitmix64 with a fixed seed.</summary>
    protected long[] _keys = [];

    /// <summary>The NativeMaps an invocation builds.</summary>
    protected NativeMap<long, long>?[] _maps = [];

    private Dictionary<long, long>?[] _dictionaries = [];

    /// <summary>Entries per map.</summary>
    [Params(1_000, 100_000, 1_000_000, 10_000_000)]
    public int N { get; set; }

    /// <summary>The capacity both maps are created with (0: none).</summary>
    protected abstract int Capacity { get; }

    /// <summary>Generates the keys.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _keys = Keys.Hits(N);
        _dictionaries = new Dictionary<long, long>?[Work.Repetitions(N)];
        _maps = new NativeMap<long, long>?[Work.Repetitions(N)];
    }

    /// <summary>Baseline: <see cref="Dictionary{TKey, TValue}.Add"/> into new Dictionary(Capacity).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.PerInvocation)]
    public void Dictionary()
    {
        long[] keys = _keys;
        for (int r = 0; r < _dictionaries.Length; r++)
        {
            var d = new Dictionary<long, long>(Capacity);
            for (int i = 0; i < keys.Length; i++)
            {
                d.Add(keys[i], i);
            }
            _dictionaries[r] = d;
        }
    }

    /// <summary><see cref="NativeMap{TKey, TValue, THasher}.Add"/> into new NativeMap(Capacity).</summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public void NativeMap()
    {
        long[] keys = _keys;
        for (int r = 0; r < _maps.Length; r++)
        {
            var m = new NativeMap<long, long>(Capacity);
            for (int i = 0; i < keys.Length; i++)
            {
                m.Add(keys[i], i);
            }
            _maps[r] = m;
        }
    }

    /// <summary><see cref="NativeMap{TKey, TValue, THasher}.SetValues"/> in batches of 1,024 into new NativeMap(Capacity): one writer-flag acquisition per batch, buckets prefetched ahead.</summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public void NativeMapBatched()
    {
        long[] keys = _keys;
        for (int r = 0; r < _maps.Length; r++)
        {
            var m = new NativeMap<long, long>(Capacity);
            for (int i = 0; i < keys.Length; i += 1024)
            {
                int n = Math.Min(1024, keys.Length - i);
                m.SetValues(keys.AsSpan(i, n), keys.AsSpan(i, n));
            }
            _maps[r] = m;
        }
    }

    /// <summary>Drops the Dictionaries, disposes the NativeMaps.</summary>
    [IterationCleanup]
    public void Cleanup() => MapSets.Release(_dictionaries, _maps);
}
