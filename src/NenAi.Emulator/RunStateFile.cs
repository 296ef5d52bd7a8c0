using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NenAi.Emulator
{
    /// <summary>Accepted runs as JSON Lines, so a restarted emulator still answers for them (restart tests).</summary>
    public sealed class RunStateFile
    {
        private readonly string _path;
        private readonly object _gate = new object();

        public RunStateFile(string path) => _path = Path.GetFullPath(path);

        public IEnumerable<EmulatedRun> Load(IReadOnlyList<WorkflowConfig> workflows)
        {
            if (!File.Exists(_path)) yield break;
            foreach (string line in File.ReadAllLines(_path))
            {
                JsonObject? o;
                try { o = JsonNode.Parse(line) as JsonObject; }
                catch (JsonException) { continue; } // a line cut short by a kill
                if (o is null) continue;
                WorkflowConfig? workflow = workflows.FirstOrDefault(w => w.Id == (string?)o["workflowId"]);
                if (workflow is null) continue;
                yield return new EmulatedRun
                {
                    MessageId = (string)o["messageId"]!,
                    WorkflowId = workflow.Id,
                    ApiKeyName = (string)o["apiKeyName"]!,
                    IdempotencyKey = (string?)o["idempotencyKey"],
                    AcceptedAt = DateTimeOffset.Parse((string)o["acceptedAt"]!),
                    StartsAt = DateTimeOffset.Parse((string)o["startsAt"]!),
                    EndsAt = DateTimeOffset.Parse((string)o["endsAt"]!),
                    Fails = (bool)o["fails"]!,
                    Error = (string?)o["error"],
                    Params = o["params"] as JsonObject is JsonObject p ? (JsonObject)p.DeepClone() : new JsonObject(),
                    Workflow = workflow,
                };
            }
        }

        public void Append(EmulatedRun run)
        {
            var o = new JsonObject
            {
                ["messageId"] = run.MessageId, ["workflowId"] = run.WorkflowId, ["apiKeyName"] = run.ApiKeyName,
                ["idempotencyKey"] = run.IdempotencyKey, ["acceptedAt"] = run.AcceptedAt.ToString("o"),
                ["startsAt"] = run.StartsAt.ToString("o"), ["endsAt"] = run.EndsAt.ToString("o"),
                ["fails"] = run.Fails, ["error"] = run.Error, ["params"] = run.Params.DeepClone(),
            };
            lock (_gate) File.AppendAllText(_path, o.ToJsonString() + "\n");
        }
    }
}
