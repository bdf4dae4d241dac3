using BenchmarkDotNet.Running;
using Native.Map.Bench.Config;
using Native.Map.Bench.Demo;
using Native.Map.Bench.Floor;
using Native.Map.Bench.LoadFactor;

namespace Native.Map.Bench;

/// <summary>
/// Entry point. <c>demo</c> runs the scenario runner, <c>loadfactor</c> the load-factor table,
/// <c>floor</c> the memory floor of a lookup;
/// anything else goes to BenchmarkDotNet (<c>--filter</c>, <c>--job short</c>, <c>--list flat</c>, ...).
/// <c>demo-child</c> and <c>loadfactor-child</c> are the hidden subcommands those two start.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "";
        string[] rest = args.Length > 0 ? args[1..] : [];
        try
        {
            switch (command)
            {
                case DemoCommand.Command:
                    return DemoCommand.Run(rest);
                case DemoChild.Command:
                    return DemoChild.Run(rest);
                case LoadFactorCommand.Command:
                    return LoadFactorCommand.Run(rest);
                case LoadFactorCommand.ChildCommand:
                    return LoadFactorCommand.RunChild(rest);
                case FloorCommand.Command:
                    return FloorCommand.Run(rest);
                default:
                    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Default);
                    return 0;
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
