using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>Reads a Start-NenRun journal the way a person inspecting it would: the last line per row key wins.</summary>
    public static class JournalFile
    {
        public static Dictionary<string, JsonElement> LastRecords(string path)
        {
            var last = new Dictionary<string, JsonElement>();
            foreach (string line in File.ReadAllLines(path))
            {
                if (line.Length == 0) continue;
                JsonElement record = JsonDocument.Parse(line).RootElement;
                if (record.TryGetProperty("key", out JsonElement key)) last[key.GetString()!] = record;
            }
            return last;
        }

        public static Dictionary<string, string> LastStates(string path)
        {
            var states = new Dictionary<string, string>();
            foreach (var (key, record) in LastRecords(path)) states[key] = record.GetProperty("state").GetString()!;
            return states;
        }
    }
}
