using BenchmarkDotNet.Running;
using Native.Map.Bench.Config;

namespace Native.Map.Bench;

/// <summary>
/// Entry point: BenchmarkDotNet suites (<c>--filter</c>, <c>--job short</c>, <c>--list flat</c>, ...).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Default);
        return 0;
    }
}
