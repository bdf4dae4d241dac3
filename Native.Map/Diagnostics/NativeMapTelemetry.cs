using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Native.Map;

/// <summary>
/// Growth telemetry of all NativeMaps through <see cref="System.Diagnostics.Metrics"/>: a
/// <see cref="Meter"/> named <c>Native.Map</c>. Every instrument is checked for a listener before
/// anything is recorded, so telemetry costs a field load when nobody listens.
/// </summary>
/// <remarks>
/// Instruments: <c>nativemap.growth.started</c> and <c>nativemap.growth.completed</c> (counters,
/// tag <c>kind</c> = <c>double</c> or <c>same_size</c>; completed also carries <c>outcome</c> =
/// <c>evacuated</c> or <c>cleared</c>), <c>nativemap.growth.duration</c> (histogram, milliseconds from
/// the start of a growth to its last bucket moved), <c>nativemap.buckets.evacuated</c>,
/// <c>nativemap.overflow_buckets.allocated</c> (counters), and the observable gauges
/// <c>nativemap.memory.live_bytes</c> and <c>nativemap.maps.live</c>. Measurements are reported on the
/// writing thread, inside the write that caused them.
/// </remarks>
public static class NativeMapTelemetry
{
    /// <summary>The meter's name, for <c>MeterListener</c>s and <c>dotnet-counters monitor --counters Native.Map</c>.</summary>
    public const string MeterName = "Native.Map";

    /// <summary>Tag value of <c>kind</c> for a growth to twice the buckets.</summary>
    public const string KindDouble = "double";

    /// <summary>Tag value of <c>kind</c> for a same-size growth.</summary>
    public const string KindSameSize = "same_size";

    private static readonly Meter s_meter = new(MeterName, "1.0");

    internal static readonly Counter<long> GrowthStarted = s_meter.CreateCounter<long>("nativemap.growth.started", "{growth}", "Growths started, by kind (double or same_size).");

    internal static readonly Counter<long> GrowthCompleted = s_meter.CreateCounter<long>("nativemap.growth.completed", "{growth}", "Growths ended: every old bucket evacuated, or the map cleared mid-growth.");

    internal static readonly Histogram<double> GrowthDuration = s_meter.CreateHistogram<double>("nativemap.growth.duration", "ms", "Time from the start of a growth to the evacuation of its last bucket.");

    internal static readonly Counter<long> BucketsEvacuated = s_meter.CreateCounter<long>("nativemap.buckets.evacuated", "{bucket}", "Old buckets evacuated into a new array.");

    internal static readonly Counter<long> OverflowBucketsAllocated = s_meter.CreateCounter<long>("nativemap.overflow_buckets.allocated", "{bucket}", "Overflow buckets taken, preallocated or from a new chunk.");

    /// <summary>The observable gauges; the meter keeps them registered, this keeps them visible to tests.</summary>
    internal static readonly ObservableGauge<long>[] Gauges =
    [
        s_meter.CreateObservableGauge("nativemap.memory.live_bytes", () => NativeMapMemory.LiveBytes, "By", "Native bytes owned by all maps."),
        s_meter.CreateObservableGauge("nativemap.maps.live", () => NativeMapMemory.LiveMaps, "{map}", "Maps neither disposed nor finalized."),
    ];

    internal static KeyValuePair<string, object?> KindTag(bool doubling) => new("kind", doubling ? KindDouble : KindSameSize);

    internal static long Timestamp() => Stopwatch.GetTimestamp();
}
