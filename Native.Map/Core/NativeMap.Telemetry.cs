using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Native.Map;

// Telemetry hooks, called by the core at the moments Go's map has names for: hashGrow (started),
// the end of advanceEvacuationMark or a clear mid-growth (finished), evacuate (one old bucket moved)
// and newoverflow (one overflow bucket chained). Each hook is an inlined Enabled check; the recording
// lives in a separate cold method, so a map nobody listens to pays one predictable branch per growth
// step and no code size on its hot paths. The recording methods catch whatever a listener throws:
// they run in the middle of an evacuation, a Clear, a Dispose or the finalizer, none of which may be
// left half done (an audit found entries lost, arrays leaked and a finalizer crash that way).

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>When the current growth started (Stopwatch ticks), 0 when nobody measured it.</summary>
    private long _growthStartTimestamp;

    /// <summary>A growth was committed (Go: end of hashGrow). Preconditions: writer flag held.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void OnGrowthStarted(bool doubling)
    {
        if (NativeMapTelemetry.GrowthStarted.Enabled || NativeMapTelemetry.GrowthDuration.Enabled)
        {
            RecordGrowthStarted(doubling);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordGrowthStarted(bool doubling)
    {
        _growthStartTimestamp = NativeMapTelemetry.GrowthDuration.Enabled ? NativeMapTelemetry.Timestamp() : 0;
        try
        {
            NativeMapTelemetry.GrowthStarted.Add(1, NativeMapTelemetry.Kind(doubling));
        }
        catch (Exception)
        {
            NativeMapTelemetry.ListenerFailed();
        }
    }

    /// <summary>
    /// The current growth ended: the last old bucket was evacuated, or Clear, a doubling or Dispose
    /// cut it short (<paramref name="end"/>). Preconditions: writer flag held (or the map is being freed).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void OnGrowthFinished(bool doubling, GrowthEnd end)
    {
        if (NativeMapTelemetry.GrowthCompleted.Enabled || _growthStartTimestamp != 0)
        {
            RecordGrowthFinished(doubling, end);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordGrowthFinished(bool doubling, GrowthEnd end)
    {
        long started = _growthStartTimestamp;
        _growthStartTimestamp = 0;
        try
        {
            NativeMapTelemetry.GrowthCompleted.Add(1, NativeMapTelemetry.Kind(doubling), NativeMapTelemetry.Outcome(end));
            if (started != 0 && end == GrowthEnd.Evacuated)
            {
                NativeMapTelemetry.GrowthDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, NativeMapTelemetry.Kind(doubling));
            }
        }
        catch (Exception)
        {
            NativeMapTelemetry.ListenerFailed();
        }
    }

    /// <summary><paramref name="n"/> old buckets were evacuated (Go: evacuate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OnBucketsEvacuated(long n)
    {
        if (NativeMapTelemetry.BucketsEvacuated.Enabled)
        {
            RecordCount(NativeMapTelemetry.BucketsEvacuated, n);
        }
    }


    /// <summary>One overflow bucket was chained (Go: newoverflow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OnOverflowAllocated()
    {
        if (NativeMapTelemetry.OverflowBucketsAllocated.Enabled)
        {
            RecordCount(NativeMapTelemetry.OverflowBucketsAllocated, 1);
        }
    }

    /// <summary>Adds <paramref name="n"/> to <paramref name="counter"/>, counting (not passing on) what a listener throws.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RecordCount(Counter<long> counter, long n)
    {
        try
        {
            counter.Add(n);
        }
        catch (Exception)
        {
            NativeMapTelemetry.ListenerFailed();
        }
    }
}
