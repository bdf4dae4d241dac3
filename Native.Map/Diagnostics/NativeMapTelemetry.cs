using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Native.Map;

/// <summary>
/// Growth telemetry of all NativeMaps through <see cref="System.Diagnostics.Metrics"/>: a
/// <see cref="Meter"/> named <c>Native.Map</c>. Every instrument is checked for a listener before
/// anything is computed or recorded, so telemetry costs a field load per growth step when nobody
/// listens, and nothing at all on lookups or on inserts that neither grow nor chain an overflow bucket.
/// </summary>
/// <remarks>
/// <para>Instruments (names in <see cref="InstrumentNames"/>):</para>
/// <list type="bullet">
/// <item><c>nativemap.growth.started</c> (counter, <c>{growth}</c>): a growth began; tag
/// <c>nativemap.growth.kind</c> = <c>double</c> (over the load factor 6.5, or EnsureCapacity) or
/// <c>same_size</c> (too many overflow buckets).</item>
/// <item><c>nativemap.growth.completed</c> (counter, <c>{growth}</c>): a growth ended; tags kind and
/// <c>nativemap.growth.outcome</c> = <c>evacuated</c> (last old bucket moved or chain compacted),
/// <c>cleared</c> (Clear dropped the old array mid-growth), <c>superseded</c> (an in-place compaction
/// replaced by a doubling) or <c>disposed</c> (the map was disposed or finalized mid-growth). Every
/// started growth ends exactly once.</item>
/// <item><c>nativemap.growth.duration</c> (histogram, seconds, tag kind): from the start of a growth to
/// its last bucket moved. Growth is incremental, so this spans many writes; it is not a pause.</item>
/// <item><c>nativemap.buckets.evacuated</c> (counter, <c>{bucket}</c>): old buckets moved to a new array, or, in
/// an in-place same-size growth (no enumerator registered), chains compacted by its cursor; 2^B per growth either way.</item>
/// <item><c>nativemap.overflow_buckets.allocated</c> (counter, <c>{bucket}</c>): overflow buckets chained,
/// preallocated or from a new chunk, by inserts and by evacuation.</item>
/// <item><c>nativemap.memory.usage</c> (observable up-down counter, bytes): native bytes owned by all
/// maps, <see cref="NativeMapMemory.LiveBytes"/>.</item>
/// <item><c>nativemap.map.count</c> (observable up-down counter, <c>{map}</c>): maps neither disposed
/// nor finalized, <see cref="NativeMapMemory.LiveMaps"/>.</item>
/// </list>
/// <para>Measurements are reported synchronously on the writing thread, inside the write that caused
/// them, while that write holds the map: a listener callback must not call the map (it would get
/// "concurrent map writes" or "concurrent map read and map write"). Reports come from the middle of
/// state changes (an evacuation, Clear, Dispose, the finalizer) that must finish, so an exception a
/// callback throws does not leave the map: it is caught where the map reports, counted in
/// <see cref="ListenerExceptions"/>, and the write goes on (the measurement is lost to the listeners
/// after the one that threw).</para>
/// <para>Watch them with <c>dotnet-counters monitor -n APP --counters Native.Map</c>; traces get the same
/// aggregated values through the runtime's <c>System.Diagnostics.Metrics</c> event source, with
/// <c>Metrics=Native.Map</c> as its filter argument.</para>
/// </remarks>
public static class NativeMapTelemetry
{
    /// <summary>The meter's name, for <c>MeterListener</c>s and <c>dotnet-counters monitor --counters Native.Map</c>.</summary>
    public const string MeterName = "Native.Map";

    /// <summary>Tag on the growth instruments: the kind of growth, <see cref="KindDouble"/> or <see cref="KindSameSize"/>.</summary>
    public const string KindTagName = "nativemap.growth.kind";

    /// <summary>Tag on <c>nativemap.growth.completed</c>: how the growth ended, <see cref="OutcomeEvacuated"/>, <see cref="OutcomeCleared"/>, <see cref="OutcomeSuperseded"/> or <see cref="OutcomeDisposed"/>.</summary>
    public const string OutcomeTagName = "nativemap.growth.outcome";

    /// <summary>Value of the kind tag for a growth to twice the buckets.</summary>
    public const string KindDouble = "double";

    /// <summary>Value of the kind tag for a same-size growth, which rewrites chains to shed overflow buckets.</summary>
    public const string KindSameSize = "same_size";

    /// <summary>Value of the outcome tag when every old bucket was evacuated and the old array freed.</summary>
    public const string OutcomeEvacuated = "evacuated";

    /// <summary>Value of the outcome tag when Clear ended the growth by dropping the old array.</summary>
    public const string OutcomeCleared = "cleared";

    /// <summary>Value of the outcome tag when an in-place same-size growth gave way to a doubling (or the empty map's array was replaced).</summary>
    public const string OutcomeSuperseded = "superseded";

    /// <summary>Value of the outcome tag when the map was disposed (or finalized) in the middle of the growth.</summary>
    public const string OutcomeDisposed = "disposed";

    /// <summary>Names of the meter's instruments.</summary>
    public static class InstrumentNames
    {
        /// <summary>Counter of growths started, tagged by kind.</summary>
        public const string GrowthStarted = "nativemap.growth.started";

        /// <summary>Counter of growths ended, tagged by kind and outcome.</summary>
        public const string GrowthCompleted = "nativemap.growth.completed";

        /// <summary>Histogram of seconds from the start of a growth to its last bucket moved, tagged by kind.</summary>
        public const string GrowthDuration = "nativemap.growth.duration";

        /// <summary>Counter of old buckets evacuated.</summary>
        public const string BucketsEvacuated = "nativemap.buckets.evacuated";

        /// <summary>Counter of overflow buckets chained.</summary>
        public const string OverflowBucketsAllocated = "nativemap.overflow_buckets.allocated";

        /// <summary>Observable up-down counter of native bytes owned by all maps.</summary>
        public const string MemoryUsage = "nativemap.memory.usage";

        /// <summary>Observable up-down counter of live maps.</summary>
        public const string MapCount = "nativemap.map.count";
    }

    private static readonly Meter s_meter = new(MeterName, "1.0");

    internal static readonly Counter<long> GrowthStarted = s_meter.CreateCounter<long>(
        InstrumentNames.GrowthStarted, "{growth}", "Growths started, by kind (double or same_size).");

    internal static readonly Counter<long> GrowthCompleted = s_meter.CreateCounter<long>(
        InstrumentNames.GrowthCompleted, "{growth}", "Growths ended, by kind and outcome (evacuated, or cleared mid-growth).");

    internal static readonly Histogram<double> GrowthDuration = s_meter.CreateHistogram(
        InstrumentNames.GrowthDuration,
        "s",
        "Time from the start of a growth to the evacuation of its last bucket (spans many writes; not a pause).",
        tags: null,
        advice: new InstrumentAdvice<double>
        {
            // From a few microseconds (a map of a few buckets) to seconds (10^8 entries with a slow writer).
            HistogramBucketBoundaries = [0.00001, 0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    internal static readonly Counter<long> BucketsEvacuated = s_meter.CreateCounter<long>(
        InstrumentNames.BucketsEvacuated, "{bucket}", "Old buckets evacuated into a new array, or chains compacted in place by a same-size growth.");

    internal static readonly Counter<long> OverflowBucketsAllocated = s_meter.CreateCounter<long>(
        InstrumentNames.OverflowBucketsAllocated, "{bucket}", "Overflow buckets chained, preallocated or from a new chunk.");

    /// <summary>The observable instruments; the meter keeps them registered, this keeps them visible to tests.</summary>
    internal static readonly ObservableUpDownCounter<long>[] Observables =
    [
        s_meter.CreateObservableUpDownCounter(InstrumentNames.MemoryUsage, () => NativeMapMemory.LiveBytes, "By", "Native bytes owned by all maps."),
        s_meter.CreateObservableUpDownCounter(InstrumentNames.MapCount, () => NativeMapMemory.LiveMaps, "{map}", "Maps neither disposed nor finalized."),
    ];

    internal static KeyValuePair<string, object?> Kind(bool doubling) => new(KindTagName, doubling ? KindDouble : KindSameSize);

    internal static KeyValuePair<string, object?> Outcome(GrowthEnd end) => new(OutcomeTagName, end switch
    {
        GrowthEnd.Cleared => OutcomeCleared,
        GrowthEnd.Superseded => OutcomeSuperseded,
        GrowthEnd.Disposed => OutcomeDisposed,
        _ => OutcomeEvacuated,
    });

    internal static long Timestamp() => Stopwatch.GetTimestamp();

    private static long s_listenerExceptions;

    /// <summary>
    /// Exceptions thrown by listener callbacks while a map reported a measurement, since the process
    /// started. The map catches them so that the write it was in the middle of finishes (see the
    /// remarks); a nonzero value means some listener is broken.
    /// </summary>
    public static long ListenerExceptions => Interlocked.Read(ref s_listenerExceptions);

    /// <summary>Counts a listener callback's exception caught at a report (<see cref="ListenerExceptions"/>).</summary>
    internal static void ListenerFailed() => Interlocked.Increment(ref s_listenerExceptions);
}

/// <summary>How a growth ended (the outcome tag).</summary>
internal enum GrowthEnd
{
    /// <summary>Every old bucket moved (or chain compacted).</summary>
    Evacuated,

    /// <summary>Clear dropped it.</summary>
    Cleared,

    /// <summary>A doubling or an array swap replaced an in-place compaction.</summary>
    Superseded,

    /// <summary>Dispose or the finalizer freed the map.</summary>
    Disposed,
}
