using System;
using System.Collections.Generic;

namespace NenAi.Bench
{
    /// <summary>Prints each figure with its baseline, the ratio and the target, and remembers misses.</summary>
    public static class Report
    {
        private static readonly List<string> Misses = new List<string>();

        public static List<string> Missed => Misses;

        public static void Line(string text) => Console.WriteLine(text);

        /// <param name="atLeast">true: the ratio must be ≥ target; false: ≤ target.</param>
        public static void Ratio(string name, double ratio, double target, bool atLeast, string detail)
        {
            bool ok = atLeast ? ratio >= target : ratio <= target;
            if (!ok) Misses.Add(name);
            Console.WriteLine($"  {name,-46} ratio {ratio,8:0.00}  target {(atLeast ? "≥" : "≤")} {target:0.##}  {(ok ? "MET " : "MISS")}  ({detail})");
        }

        /// <summary>A ratio reported for comparison, with no target to meet.</summary>
        public static void Info(string name, double ratio, string detail) =>
            Console.WriteLine($"  {name,-46} ratio {ratio,8:0.00}  (reported, no target)  ({detail})");
    }
}
