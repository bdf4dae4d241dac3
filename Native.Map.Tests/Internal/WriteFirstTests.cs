using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Internal;

/// <summary>
/// The write-first touch of an array installed for a capacity (an insert's first access to its
/// bucket is a read-modify-write while the array may have untouched pages): it must change no
/// entry, and its cut-off is part of the fast-insert limit that CheckInvariants verifies.
/// </summary>
public sealed class WriteFirstTests : LeakCheckedTest
{
    [Test]
    public void CapacityMap_UnderRandomWrites_MatchesTheModel_WhileTheTouchTurnsOff()
    {
        RequireUnmappedPages();
        int seed = TestSeed.Next(nameof(CapacityMap_UnderRandomWrites_MatchesTheModel_WhileTheTouchTurnsOff));
        var rng = new Random(seed);
        // Capacity 100,000: 2^14 buckets and an overflow tail, 2.5 MB from the OS, 612 pages: the
        // touch is on until 9,792 entries. Keys from a small range so that updates and removes hit present keys.
        using var map = new NativeMap<long, long>(100_000);
        var model = new Dictionary<long, long>();
        Assert.That(map.WritesFirst, Is.True);
        bool sawOff = false;
        for (int op = 0; op < 60_000; op++)
        {
            long key = rng.Next(0, 30_000);
            int kind = rng.Next(100);
            if (kind < 70)
            {
                map[key] = op;
                model[key] = op;
            }
            else if (kind < 90)
            {
                Assert.That(map.Remove(key), Is.EqualTo(model.Remove(key)), $"op {op}: remove {key}");
            }
            else
            {
                Assert.That(map.TryGetValue(key, out long v), Is.EqualTo(model.TryGetValue(key, out long mv)), $"op {op}: lookup {key}");
                Assert.That(v, Is.EqualTo(mv));
            }
            if (op == 5_000 || op == 45_000)
            {
                // Once with the touch on (about 2,500 entries), once with it off.
                map.Clear();
                model.Clear();
            }
            sawOff |= !map.WritesFirst;
            if (op % 1_000 == 0)
            {
                map.CheckInvariants();
            }
        }
        map.CheckInvariants();
        Assert.That(map.Count, Is.EqualTo(model.Count));
        foreach (var (k, v) in model)
        {
            Assert.That(map[k], Is.EqualTo(v), $"key {k}");
        }
        Assert.That(sawOff, Is.True, "the touch stayed on past 16 entries per page");
    }

    [Test]
    public void EnsureCapacityOnAnEmptyMap_TurnsTheTouchOn_UntilSixteenEntriesPerPage()
    {
        RequireUnmappedPages();
        using var map = new NativeMap<long, long>();
        Assert.That(map.WritesFirst, Is.False, "a map without a capacity starts with a small array");
        map.EnsureCapacity(100_000);
        Assert.That(map.WritesFirst, Is.True, "EnsureCapacity on an empty map installs an array from the OS");
        // 2^14 buckets and the 2^10 of the overflow tail, 144 bytes each: 612 pages, 9,792 entries.
        // The insert that finds the map at that count takes the general path, which turns it off.
        long until = (long)NativeMap<long, long>.ArrayBytes(14) / 4096 * 16;
        Assert.That(until, Is.EqualTo(9_792));
        for (long i = 0; i < until; i++)
        {
            map[i] = i;
        }
        Assert.That(map.WritesFirst, Is.True, "turned off before 16 entries per page");
        map.CheckInvariants();
        map[until] = until;
        Assert.That(map.WritesFirst, Is.False, "still on at 16 entries per page");
        map.CheckInvariants();
        for (long i = until + 1; i < 120_000; i++)
        {
            map[i] = i; // through the doubling at 6.5 * 2^14 = 106,496
        }
        Assert.That(map.GetStats().B, Is.EqualTo(15));
        Assert.That(map.WritesFirst, Is.False);
        map.CheckInvariants();
        for (long i = 0; i < 120_000; i++)
        {
            Assert.That(map[i], Is.EqualTo(i));
        }
    }

    private static void RequireUnmappedPages()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("The system allocator's large blocks start unmapped on Linux only; elsewhere the touch stays off.");
        }
    }
}
