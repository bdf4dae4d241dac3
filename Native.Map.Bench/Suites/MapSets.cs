namespace Native.Map.Bench.Suites;

/// <summary>Building and releasing the sets of maps the whole-table suites work on.</summary>
internal static class MapSets
{
    /// <summary>Fills every slot with a new map from <paramref name="create"/> holding <paramref name="keys"/> (value = index). Setup only: the interface call is not measured.</summary>
    public static void Fill<TMap>(TMap?[] maps, long[] keys, Func<TMap> create)
        where TMap : class, IDictionary<long, long>
    {
        for (int r = 0; r < maps.Length; r++)
        {
            maps[r] = Build(keys, create);
        }
    }

    /// <summary>A new map from <paramref name="create"/> holding <paramref name="keys"/> (value = index). Setup only: the interface call is not measured.</summary>
    public static TMap Build<TMap>(long[] keys, Func<TMap> create)
        where TMap : class, IDictionary<long, long>
    {
        TMap m = create();
        for (int i = 0; i < keys.Length; i++)
        {
            m.Add(keys[i], i);
        }
        return m;
    }

    /// <summary>Drops the Dictionaries and disposes the NativeMaps (their memory is native: nobody else frees it promptly).</summary>
    public static void Release<TKey, TValue>(Dictionary<TKey, TValue>?[] dictionaries, NativeMap<TKey, TValue>?[] maps)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
    {
        Array.Clear(dictionaries);
        for (int r = 0; r < maps.Length; r++)
        {
            maps[r]?.Dispose();
            maps[r] = null;
        }
    }
}
