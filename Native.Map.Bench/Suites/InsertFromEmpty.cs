using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>Insert into maps created empty (no capacity hint), so the cost includes every growth.</summary>
[BenchmarkCategory("InsertFromEmpty")]
[WholeTableJob]
public class InsertFromEmpty : InsertSuite
{
    /// <inheritdoc/>
    protected override int Capacity => 0;

    /// <summary><see cref="NativeMap{TKey, TValue, THasher}.SetValues"/> in batches of 1,024 into new NativeMap(): one writer-flag acquisition per batch, buckets prefetched ahead.</summary>
    [Benchmark(OperationsPerInvoke = Work.PerInvocation)]
    public void NativeMapBatched()
    {
        long[] keys = _keys;
        for (int r = 0; r < _maps.Length; r++)
        {
            var m = new NativeMap<long, long>();
            for (int i = 0; i < keys.Length; i += 1024)
            {
                int n = Math.Min(1024, keys.Length - i);
                m.SetValues(keys.AsSpan(i, n), keys.AsSpan(i, n));
            }
            _maps[r] = m;
        }
    }
}
