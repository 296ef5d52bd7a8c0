using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NenAi.Emulator
{
    /// <summary>
    /// Checks workflow_params / secure_workflow_params against a workflow's declared model the way
    /// Pydantic's lax mode would (numeric and boolean strings are accepted, e.g. from CSV files).
    /// Problems never quote a secure value.
    /// </summary>
    public static class ParamValidator
    {
        /// <param name="echoValues">Quote the offending input in each problem, as a badly behaved service might (secure values included).</param>
        public static List<(string Field, string Problem)> Validate(WorkflowConfig workflow, JsonObject? parameters, JsonObject? secure, bool echoValues = false)
        {
            var problems = new List<(string, string)>();
            parameters ??= new JsonObject();
            foreach (var (name, spec) in workflow.Params)
            {
                if (!parameters.TryGetPropertyValue(name, out JsonNode? value) || value is null)
                {
                    if (spec.Required) problems.Add((name, "field required"));
                    continue;
                }
                string? problem = CheckValue(spec, value);
                if (problem != null) problems.Add((name, echoValues ? $"{problem}, got '{Quote(value)}'" : problem));
            }
            if (!string.Equals(workflow.ExtraParams, "ignore", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var pair in parameters)
                    if (!workflow.Params.ContainsKey(pair.Key)) problems.Add((pair.Key, "extra fields not permitted"));
            }

            secure ??= new JsonObject();
            foreach (var (name, spec) in workflow.SecureParams)
            {
                if (!secure.TryGetPropertyValue(name, out JsonNode? value) || value is null)
                {
                    if (spec.Required) problems.Add((name, "secure field required"));
                    continue;
                }
                if (value.GetValueKind() != JsonValueKind.String) { problems.Add((name, "secure values must be strings")); continue; }
                if (spec.MinLength.HasValue && value.GetValue<string>().Length < spec.MinLength.Value)
                    problems.Add((name, $"should have at least {spec.MinLength.Value} characters" + (echoValues ? $", got '{value.GetValue<string>()}'" : string.Empty)));
            }
            foreach (var pair in secure)
                if (!workflow.SecureParams.ContainsKey(pair.Key)) problems.Add((pair.Key, "extra secure fields not permitted"));
            return problems;
        }

        private static string? CheckValue(ParamSpec spec, JsonNode value)
        {
            JsonValueKind kind = value.GetValueKind();
            switch (spec.Type.ToLowerInvariant())
            {
                case "string":
                    if (kind != JsonValueKind.String) return "input should be a valid string";
                    string s = value.GetValue<string>();
                    if (spec.MinLength.HasValue && s.Length < spec.MinLength.Value) return $"should have at least {spec.MinLength.Value} characters";
                    if (spec.MaxLength.HasValue && s.Length > spec.MaxLength.Value) return $"should have at most {spec.MaxLength.Value} characters";
                    return null;
                case "integer":
                    if (!TryNumber(value, kind, out double i) || Math.Floor(i) != i) return "input should be a valid integer";
                    return Range(spec, i);
                case "number":
                    if (!TryNumber(value, kind, out double n)) return "input should be a valid number";
                    return Range(spec, n);
                case "boolean":
                    if (kind == JsonValueKind.True || kind == JsonValueKind.False) return null;
                    if (kind == JsonValueKind.String)
                    {
                        switch (value.GetValue<string>().Trim().ToLowerInvariant())
                        {
                            case "true": case "false": case "1": case "0": case "yes": case "no": case "on": case "off": return null;
                        }
                    }
                    if (kind == JsonValueKind.Number && (value.GetValue<double>() == 0 || value.GetValue<double>() == 1)) return null;
                    return "input should be a valid boolean";
                case "object":
                    return kind == JsonValueKind.Object ? null : "input should be a valid object";
                case "array":
                    return kind == JsonValueKind.Array ? null : "input should be a valid list";
                default:
                    return null;
            }
        }

        private static string Quote(JsonNode value) => value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

        private static bool TryNumber(JsonNode value, JsonValueKind kind, out double number)
        {
            number = 0;
            if (kind == JsonValueKind.Number) { number = value.GetValue<double>(); return true; }
            return kind == JsonValueKind.String &&
                   double.TryParse(value.GetValue<string>().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out number) &&
                   !double.IsNaN(number) && !double.IsInfinity(number);
        }

        private static string? Range(ParamSpec spec, double value)
        {
            if (spec.Minimum.HasValue && value < spec.Minimum.Value) return $"input should be greater than or equal to {spec.Minimum.Value.ToString(CultureInfo.InvariantCulture)}";
            if (spec.Maximum.HasValue && value > spec.Maximum.Value) return $"input should be less than or equal to {spec.Maximum.Value.ToString(CultureInfo.InvariantCulture)}";
            return null;
        }
    }
}
