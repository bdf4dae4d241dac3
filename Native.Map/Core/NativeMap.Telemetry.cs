using System.Diagnostics;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>When the current growth started (Stopwatch ticks), 0 when nobody measured it.</summary>
    private long _growthStartTimestamp;

    private void OnGrowthStarted(bool doubling)
    {
        if (NativeMapTelemetry.GrowthStarted.Enabled)
        {
            NativeMapTelemetry.GrowthStarted.Add(1, NativeMapTelemetry.KindTag(doubling));
        }
        _growthStartTimestamp = NativeMapTelemetry.GrowthDuration.Enabled ? NativeMapTelemetry.Timestamp() : 0;
    }

    private void OnGrowthFinished(bool doubling, bool abandoned)
    {
        if (NativeMapTelemetry.GrowthCompleted.Enabled)
        {
            NativeMapTelemetry.GrowthCompleted.Add(1, NativeMapTelemetry.KindTag(doubling), new("outcome", abandoned ? "cleared" : "evacuated"));
        }
        if (_growthStartTimestamp != 0 && !abandoned && NativeMapTelemetry.GrowthDuration.Enabled)
        {
            NativeMapTelemetry.GrowthDuration.Record(Stopwatch.GetElapsedTime(_growthStartTimestamp).TotalMilliseconds, NativeMapTelemetry.KindTag(doubling));
        }
        _growthStartTimestamp = 0;
    }

    private static void OnBucketsEvacuated(long n)
    {
        if (NativeMapTelemetry.BucketsEvacuated.Enabled)
        {
            NativeMapTelemetry.BucketsEvacuated.Add(n);
        }
    }

    private static void OnOverflowAllocated()
    {
        if (NativeMapTelemetry.OverflowBucketsAllocated.Enabled)
        {
            NativeMapTelemetry.OverflowBucketsAllocated.Add(1);
        }
    }
}
