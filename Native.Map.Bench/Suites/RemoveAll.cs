using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>
/// Remove every key, in shuffled order, from full maps of N entries. [IterationSetup] builds
/// 10^7 / N maps (outside the measurement; BenchmarkDotNet then runs one invocation per iteration)
/// and the invocation empties all of them.
/// </summary>
[BenchmarkCategory("RemoveAll")]
[WholeTableJob]
public class RemoveAll
{
    private long[] _keys = [];
    private long[] _removeOrder = [];
    private Dictionary<long, long>?[] _dictionaries = [];
    private NativeMap<long, long>?[] _maps = [];

    /// <summary>Entries per map.</summary>
    [Params(1_000, 100_000, 1_000_000, 10_000_000)]
    public int N { get; set; }

    /// <summary>Generates the keys and the removal order.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _keys = Keys.Hits(N);
        _removeOrder = Keys.Shuffled(_keys);
        _dictionaries = new Dictionary<long, long>?[Work.Repetitions(N)];
        _maps = new NativeMap<long, long>?[Work.Repetitions(N)];
    }

    /// <summary>Builds the Dictionaries to empty.</summary>
    [IterationSetup(Target = nameof(Dictionary))]
    public void SetupDictionaries() => MapSets.Fill(_dictionaries, _keys, () => new Dictionary<long, long>());

    /// <summary>Builds the NativeMaps to empty.</summary>
    [IterationSetup(Targets = [nameof(NativeMap), nameof(NativeMapBatched)])]
    public void SetupMaps() => MapSets.Fill(_maps, _keys, () => new NativeMap<long, long>());

    /// <summary>Baseline: Dictionary.Remove of every key; returns the number removed.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.PerInvocation)]
    public long Dictionary()
    {
        long[] order = _removeOrder;
        long removed = 0;
        foreach (Dictionary<long, long>? d in _dictionaries)
        {
            for (int i = 0; i < order.Length; i++)
            {
                removed += d!.Remove(order[i]) ? 1 : 0;
            }
        }
        return removed;
    }

    /// <summary>NativeMap.Remove of every key; returns the number removed.</summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public long NativeMap()
    {
        long[] order = _removeOrder;
        long removed = 0;
        foreach (NativeMap<long, long>? m in _maps)
        {
            for (int i = 0; i < order.Length; i++)
            {
                removed += m!.Remove(order[i]) ? 1 : 0;
            }
        }
        return removed;
    }

    /// <summary>
    /// <see cref="NativeMap{TKey, TValue, THasher}.RemoveKeys(ReadOnlySpan{TKey})"/> of every key in
    /// batches of 1,024 (as <see cref="InsertSuite.NativeMapBatched"/> sets them): one
    /// writer-flag acquisition per batch, buckets prefetched ahead; returns the number removed.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public long NativeMapBatched()
    {
        long[] order = _removeOrder;
        long removed = 0;
        foreach (NativeMap<long, long>? m in _maps)
        {
            for (int i = 0; i < order.Length; i += 1024)
            {
                removed += m!.RemoveKeys(order.AsSpan(i, Math.Min(1024, order.Length - i)));
            }
        }
        return removed;
    }

    /// <summary>Drops the Dictionaries, disposes the NativeMaps.</summary>
    [IterationCleanup]
    public void Cleanup() => MapSets.Release(_dictionaries, _maps);
}
