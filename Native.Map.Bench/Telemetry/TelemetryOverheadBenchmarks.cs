using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Native.Map.Bench.Telemetry;

/// <summary>
/// What the <c>Native.Map</c> meter costs: insert from empty (every growth, evacuation and overflow
/// hook fires) and lookup hits (no hook at all), each with nobody listening (the baseline) and with a
/// <see cref="MeterListener"/> enabled on every instrument of the meter, whose callbacks count the
/// measurements. The ratio column is the overhead of listening.
/// </summary>
/// <remarks>
/// The listener is created in a per-target <c>[GlobalSetup]</c>: BenchmarkDotNet runs each benchmark
/// case in its own process, so the no-listener cases never see an enabled instrument. Run with
/// <c>--filter *TelemetryOverhead*</c> (add <c>--job short</c> for a quick look).
/// </remarks>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class TelemetryOverheadBenchmarks
{
    private static long s_measurements;

    private long[] _keys = [];
    private long[] _lookupOrder = [];
    private NativeMap<long, long>? _lookupMap;
    private MeterListener? _listener;

    /// <summary>Entries inserted, or looked up, per invocation.</summary>
    [Params(100_000, 1_000_000)]
    public int N { get; set; }

    /// <summary>Keys and lookup map, nobody listening.</summary>
    [GlobalSetup(Targets = [nameof(InsertNoListener), nameof(LookupNoListener)])]
    public void SetupQuiet() => Setup(listen: false);

    /// <summary>Keys and lookup map, with a listener on every instrument of the meter.</summary>
    [GlobalSetup(Targets = [nameof(InsertListening), nameof(LookupListening)])]
    public void SetupListening() => Setup(listen: true);

    /// <summary>Frees the lookup map and stops the listener.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _lookupMap?.Dispose();
        _lookupMap = null;
        _listener?.Dispose();
        _listener = null;
    }

    /// <summary>Fills a new map from empty to <see cref="N"/> entries; nobody listens.</summary>
    /// <returns>The count, so the work is not dead code.</returns>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Insert")]
    public int InsertNoListener() => Insert();

    /// <summary>Fills a new map from empty to <see cref="N"/> entries while every instrument is listened to.</summary>
    /// <returns>The count.</returns>
    [Benchmark]
    [BenchmarkCategory("Insert")]
    public int InsertListening() => Insert();

    /// <summary>Looks every key up once, in shuffled order; nobody listens.</summary>
    /// <returns>The sum of the values.</returns>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Lookup")]
    public long LookupNoListener() => Lookup();

    /// <summary>Looks every key up once, in shuffled order, while every instrument is listened to.</summary>
    /// <returns>The sum of the values.</returns>
    [Benchmark]
    [BenchmarkCategory("Lookup")]
    public long LookupListening() => Lookup();

    private void Setup(bool listen)
    {
        if (listen)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == NativeMapTelemetry.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, _, _, _) => s_measurements++);
            _listener.SetMeasurementEventCallback<double>((_, _, _, _) => s_measurements++);
            _listener.Start();
        }

        // splitmix64 of a counter: distinct, well-spread keys, the same in every process.
        _keys = new long[N];
        ulong state = 0x5EED;
        for (int i = 0; i < N; i++)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            _keys[i] = (long)(z ^ (z >> 31));
        }
        _lookupOrder = (long[])_keys.Clone();
        new Random(42).Shuffle(_lookupOrder);
        _lookupMap = new NativeMap<long, long>();
        foreach (long k in _keys)
        {
            _lookupMap[k] = k;
        }
    }

    private int Insert()
    {
        using var map = new NativeMap<long, long>();
        foreach (long k in _keys)
        {
            map[k] = k;
        }
        return map.Count;
    }

    private long Lookup()
    {
        NativeMap<long, long> map = _lookupMap!;
        long sum = 0;
        foreach (long k in _lookupOrder)
        {
            map.TryGetValue(k, out long v);
            sum += v;
        }
        return sum;
    }
}
