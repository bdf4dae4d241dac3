using System.Diagnostics;
using System.Globalization;
using Native.Map.Hashing;
using Native.Map.Memory;
using Native.Map.Tests.Support;

namespace Native.Map.StressHost;

/// <summary>
/// Usage: <c>dotnet Native.Map.StressHost.dll SCENARIO [SEED] [RUNS] [guard|tracking]</c>.
/// Runs a stress scenario (see StressScenarios) RUNS times and prints one line "OK ..." per run;
/// exits 0 only when all pass. Allocator: guard pages by default. Also:
/// <c>selftest-overrun</c>, <c>selftest-slack</c>, <c>selftest-uaf</c> (must crash: they prove the
/// guard allocator catches what it claims to) and <c>hash</c> (prints seeds and a hash, to compare
/// processes).
/// </summary>
internal static unsafe class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Native.Map.StressHost SCENARIO [SEED] [RUNS] [guard|tracking]");
            return 2;
        }
        string scenario = args[0];
        int seed = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : Environment.TickCount;
        int runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        bool guard = args.Length <= 3 || args[3] == "guard";
        switch (scenario)
        {
            case "selftest-overrun":
            {
                var g = new GuardPageAllocator();
                byte* p = (byte*)g.Allocate(100, zeroed: true);
                Console.WriteLine("writing past the block's 64-byte-aligned end, into the guard page");
                Console.Out.Flush();
                p[128] = 1;
                Console.WriteLine("NOT CAUGHT");
                return 0;
            }
            case "selftest-slack":
            {
                var g = new GuardPageAllocator();
                byte* p = (byte*)g.Allocate(100, zeroed: true);
                p[100] = 1; // inside the alignment slack: caught by the canary on free
                g.Free(p, 100);
                Console.WriteLine("NOT CAUGHT");
                return 0;
            }
            case "selftest-uaf":
            {
                var g = new GuardPageAllocator();
                long* p = (long*)g.Allocate(64, zeroed: true);
                g.Free(p, 64);
                Console.WriteLine("reading a freed block");
                Console.Out.Flush();
                long v = *(long*)(nint)p;
                Console.WriteLine($"NOT CAUGHT {v}");
                return 0;
            }
            case "hash":
            {
                using var map = new NativeMap<long, long>();
                using var fixedMap = new NativeMap<long, long>(0, null, 12345u);
                Console.WriteLine($"OK hash0={map.GetDebugState().Hash0} fixedSeedHashOf42={fixedMap.HashOf(42)} expanded={HashMix.ExpandSeed(12345u)}");
                return 0;
            }
        }
        for (int r = 0; r < runs; r++)
        {
            int runSeed = seed + r;
            NativeAllocator allocator = guard ? new GuardPageAllocator() : new TrackingAllocator();
            var sw = Stopwatch.StartNew();
            string result = StressScenarios.Run(scenario, runSeed, allocator);
            if (allocator is GuardPageAllocator g)
            {
                g.CheckAllCanaries();
                if (g.LiveBlocks != 0)
                {
                    Console.Error.WriteLine($"FAIL {scenario} seed {runSeed}: {g.LiveBlocks} blocks still live");
                    return 1;
                }
            }
            else
            {
                ((TrackingAllocator)allocator).AssertClean();
            }
            Console.WriteLine($"OK {scenario} seed={runSeed} {result} ({sw.ElapsedMilliseconds} ms)");
        }
        return 0;
    }
}
