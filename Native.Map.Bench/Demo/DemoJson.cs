using System.Text.Json;

namespace Native.Map.Bench.Demo;

/// <summary>JSON settings of the demo (child-to-parent transport and the written report).</summary>
internal static class DemoJson
{
    public static readonly JsonSerializerOptions Compact = new();

    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
