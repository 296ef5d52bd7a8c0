using System;

namespace NenAi.Emulator
{
    /// <summary>The random source of a fault setting: repeatable when the setting has a seed.</summary>
    public static class SeededRandom
    {
        public static Random For(int? seed) => seed.HasValue ? new Random(seed.Value) : new Random();
    }
}
