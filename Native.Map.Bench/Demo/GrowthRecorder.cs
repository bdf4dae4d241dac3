using System.Diagnostics.Metrics;
using Names = Native.Map.NativeMapTelemetry.InstrumentNames;

namespace Native.Map.Bench.Demo;

/// <summary>
/// Listens to the <c>Native.Map</c> meter and turns its growth measurements into one
/// <see cref="GrowthEvent"/> per growth, tagged with the insert index that was running when each
/// measurement arrived (measurements are reported synchronously inside the write that causes them).
/// </summary>
/// <remarks>
/// Instrument and tag names come from <see cref="NativeMapTelemetry"/>. By default only the growth instruments are enabled: a couple of dozen callbacks for a 10^7 build.
/// <c>full</c> also enables <c>nativemap.buckets.evacuated</c> and
/// <c>nativemap.overflow_buckets.allocated</c>, which fire inside many inserts and so cost time on
/// the measured path; the demo runs that in a separate child whose timings it does not use.
/// </remarks>
internal sealed class GrowthRecorder : IDisposable
{
    /// <summary>Index of the insert in progress; the measured loops store it before every insert.</summary>
    public static long CurrentIndex;

    private readonly MeterListener _listener;
    private readonly List<Pending> _growths = [];
    private Pending? _open;

    public GrowthRecorder(bool full)
    {
        Full = full;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name != NativeMapTelemetry.MeterName)
                {
                    return;
                }
                bool wanted = instrument.Name switch
                {
                    Names.GrowthStarted or Names.GrowthCompleted or Names.GrowthDuration => true,
                    Names.BucketsEvacuated or Names.OverflowBucketsAllocated => full,
                    _ => false,
                };
                if (wanted)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(OnLong);
        _listener.SetMeasurementEventCallback<double>(OnDouble);
        _listener.Start();
    }

    /// <summary>Whether the per-bucket counters are enabled too.</summary>
    public bool Full { get; }

    /// <summary>Overflow buckets taken during the whole recording (only with <see cref="Full"/>).</summary>
    public long OverflowBucketsAllocated { get; private set; }

    /// <summary>Old buckets evacuated during the whole recording (only with <see cref="Full"/>).</summary>
    public long BucketsEvacuated { get; private set; }

    /// <summary>The growths seen so far, in order.</summary>
    public List<GrowthEvent> Growths() =>
        _growths.Select(g => new GrowthEvent(g.Number, g.Kind, g.Start, g.End, g.DurationMs, g.Evacuated, g.Overflow)).ToList();

    public void Dispose() => _listener.Dispose();

    private void OnLong(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case Names.GrowthStarted:
                _open = new Pending { Number = _growths.Count + 1, Kind = Tag(tags, NativeMapTelemetry.KindTagName), Start = CurrentIndex, End = -1 };
                _growths.Add(_open);
                break;
            case Names.GrowthCompleted:
                if (_open is not null)
                {
                    _open.End = CurrentIndex;
                    _open.Outcome = Tag(tags, NativeMapTelemetry.OutcomeTagName);
                }
                break;
            case Names.BucketsEvacuated:
                BucketsEvacuated += value;
                if (_open is { End: < 0 })
                {
                    _open.Evacuated += value;
                }
                break;
            case Names.OverflowBucketsAllocated:
                OverflowBucketsAllocated += value;
                if (_open is { End: < 0 })
                {
                    _open.Overflow += value;
                }
                break;
        }
    }

    private void OnDouble(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == Names.GrowthDuration && _open is not null)
        {
            // The histogram's unit is seconds ("s"); older builds of the library recorded milliseconds.
            _open.DurationMs = instrument.Unit == "ms" ? value : value * 1e3;
        }
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value?.ToString() ?? "";
            }
        }
        return "";
    }

    private sealed class Pending
    {
        public int Number;
        public string Kind = "";
        public string Outcome = "";
        public long Start;
        public long End;
        public double DurationMs = -1;
        public long Evacuated;
        public long Overflow;
    }
}
