using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;
using Native.Map.Bench.Config;

namespace Native.Map.Bench.Suites;

/// <summary>Shared size and set-up of the size sweep.</summary>
public static class SizeSweep
{
    /// <summary>Entries per map: large enough that 2 x 129-byte entries spill out of L2, small enough to build fast.</summary>
    public const int N = 100_000;

    /// <summary>Maps built per insert invocation.</summary>
    public const int MapsPerInvocation = 10;

    /// <summary>Keys (and values) of the sweep: splitmix64 ids wrapped in <typeparamref name="T"/>.</summary>
    public static T[] Blobs<T>(long[] ids)
        where T : unmanaged, IBlob<T>
    {
        var blobs = new T[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            blobs[i] = T.Create(ids[i]);
        }
        return blobs;
    }

    /// <summary>Prints the bucket layout NativeMap uses for <typeparamref name="T"/> (it lands in the BenchmarkDotNet log).</summary>
    public static void DescribeLayout<T>()
        where T : unmanaged
    {
        NativeMapLayout layout = NativeMapLayout.Of<T, T>();
        Console.WriteLine(
            $"// {typeof(T).Name}: sizeof = {Unsafe.SizeOf<T>()} B, NativeMap bucket = {layout.BucketSize} B, " +
            $"key slot = {layout.KeySlotSize} B{(layout.IndirectKey ? " (indirect)" : "")}, " +
            $"value slot = {layout.ValueSlotSize} B{(layout.IndirectValue ? " (indirect)" : "")}");
    }
}

/// <summary>
/// Size sweep, lookup hit: maps of <see cref="SizeSweep.N"/> entries whose key and value are both
/// <typeparamref name="T"/> (8 to 129 bytes), looked up in shuffled order, batch by batch.
/// </summary>
/// <typeparam name="T">The key and value type.</typeparam>
[BenchmarkCategory("SizeSweepLookupHit")]
[GenericTypeArguments(typeof(Blob8))]
[GenericTypeArguments(typeof(Blob16))]
[GenericTypeArguments(typeof(Blob32))]
[GenericTypeArguments(typeof(Blob64))]
[GenericTypeArguments(typeof(Blob128))]
[GenericTypeArguments(typeof(Blob129))]
public class SizeSweepLookupHit<T>
    where T : unmanaged, IBlob<T>
{
    private Dictionary<T, T> _dictionary = [];
    private NativeMap<T, T>? _map;
    private T[] _probe = [];
    private int _next;

    /// <summary>Builds both maps and the lookup order.</summary>
    [GlobalSetup]
    public void Setup()
    {
        SizeSweep.DescribeLayout<T>();
        T[] keys = SizeSweep.Blobs<T>(Keys.Hits(SizeSweep.N));
        _dictionary = new Dictionary<T, T>();
        _map = new NativeMap<T, T>();
        foreach (T k in keys)
        {
            _dictionary.Add(k, k);
            _map.Add(k, k);
        }
        _probe = Keys.ProbeOrder(keys, Work.LookupBatch);
        _next = 0;
    }

    /// <summary>Baseline: Dictionary.TryGetValue.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.LookupBatch)]
    public long Dictionary()
    {
        Dictionary<T, T> d = _dictionary;
        T[] probe = _probe;
        int start = _next;
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            d.TryGetValue(probe[i], out T v);
            sum += v.Id;
        }
        _next = start + Work.LookupBatch == probe.Length ? 0 : start + Work.LookupBatch;
        return sum;
    }

    /// <summary>NativeMap.TryGetValue.</summary>
    [Benchmark(OperationsPerInvoke = Work.LookupBatch)]
    public long NativeMap()
    {
        NativeMap<T, T> m = _map!;
        T[] probe = _probe;
        int start = _next;
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            m.TryGetValue(probe[i], out T v);
            sum += v.Id;
        }
        _next = start + Work.LookupBatch == probe.Length ? 0 : start + Work.LookupBatch;
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

/// <summary>
/// Size sweep, insert from empty: <see cref="SizeSweep.MapsPerInvocation"/> new maps of
/// <see cref="SizeSweep.N"/> entries per invocation, key and value both <typeparamref name="T"/>.
/// NativeMaps are disposed in [IterationCleanup].
/// </summary>
/// <typeparam name="T">The key and value type.</typeparam>
[BenchmarkCategory("SizeSweepInsert")]
[WholeTableJob]
[GenericTypeArguments(typeof(Blob8))]
[GenericTypeArguments(typeof(Blob16))]
[GenericTypeArguments(typeof(Blob32))]
[GenericTypeArguments(typeof(Blob64))]
[GenericTypeArguments(typeof(Blob128))]
[GenericTypeArguments(typeof(Blob129))]
public class SizeSweepInsert<T>
    where T : unmanaged, IBlob<T>
{
    private const int Operations = SizeSweep.N * SizeSweep.MapsPerInvocation;

    private T[] _keys = [];
    private readonly Dictionary<T, T>?[] _dictionaries = new Dictionary<T, T>?[SizeSweep.MapsPerInvocation];
    private readonly NativeMap<T, T>?[] _maps = new NativeMap<T, T>?[SizeSweep.MapsPerInvocation];

    /// <summary>Generates the keys.</summary>
    [GlobalSetup]
    public void Setup()
    {
        SizeSweep.DescribeLayout<T>();
        _keys = SizeSweep.Blobs<T>(Keys.Hits(SizeSweep.N));
    }

    /// <summary>Baseline: Add into new Dictionary().</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void Dictionary()
    {
        T[] keys = _keys;
        for (int r = 0; r < _dictionaries.Length; r++)
        {
            var d = new Dictionary<T, T>();
            foreach (T k in keys)
            {
                d.Add(k, k);
            }
            _dictionaries[r] = d;
        }
    }

    /// <summary>Add into new NativeMap().</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void NativeMap()
    {
        T[] keys = _keys;
        for (int r = 0; r < _maps.Length; r++)
        {
            var m = new NativeMap<T, T>();
            foreach (T k in keys)
            {
                m.Add(k, k);
            }
            _maps[r] = m;
        }
    }

    /// <summary>Drops the Dictionaries, disposes the NativeMaps.</summary>
    [IterationCleanup]
    public void Cleanup() => MapSets.Release(_dictionaries, _maps);
}
