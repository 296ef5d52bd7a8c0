# Starts the local Nen API emulator as a process on a free loopback port. Shared by build.ps1 -Task Demo
# and the Pester suites.
function Start-EmulatorProcess {
    [CmdletBinding()]
    param(
        # Emulator configuration (default: emulator.sample.json beside the emulator).
        [string] $ConfigPath,
        # The build to prefer when it is not laid out in out/emulator; the other is used when only it exists.
        [ValidateSet('Release', 'Debug')]
        [string] $Configuration = 'Release'
    )
    $root = Resolve-Path (Join-Path $PSScriptRoot '..')
    # build.ps1 lays the emulator out in out/emulator; a developer's build of the project alone is in its bin folder.
    $dll = @((Join-Path $root 'out/emulator/NenAi.Emulator.dll')) + (@($Configuration, 'Release', 'Debug') |
        ForEach-Object { Join-Path $root "src/NenAi.Emulator/bin/$_/net10.0/NenAi.Emulator.dll" }) |
        Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
    if (-not $dll) { throw 'The emulator is not built: run ./build.ps1 -Task Build first.' }
    $arguments = @($dll, '--urls', 'http://127.0.0.1:0')
    if ($ConfigPath) { $arguments += @('--config', $ConfigPath) }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in $arguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch 'listening on (\S+)') {
        $process.Kill()
        throw "The emulator did not start: $line"
    }
    [pscustomobject]@{ Process = $process; BaseUri = $Matches[1] }
}

function Stop-EmulatorProcess {
    param($Emulator)
    if ($Emulator -and -not $Emulator.Process.HasExited) {
        $Emulator.Process.Kill()
        $Emulator.Process.WaitForExit(10000) | Out-Null
    }
}

Export-ModuleMember -Function Start-EmulatorProcess, Stop-EmulatorProcess
