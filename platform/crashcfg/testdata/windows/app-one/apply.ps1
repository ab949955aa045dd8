#Requires -RunAsAdministrator
# crashbench config plan: goal app, WER full dump (MyApp.exe)
# Saves the current values of everything it changes to crashbench-saved.json next to this
# script, then applies the changes. revert.ps1 restores the saved values.
$ErrorActionPreference = 'Stop'
$saved = Join-Path $PSScriptRoot 'crashbench-saved.json'
if (Test-Path -LiteralPath $saved) {
    throw "$saved exists: run revert.ps1 first, or move the file away, so that the original values are kept."
}

$changes = @(
    # DumpType: 2 = full dump: all of the process's memory, what a debugger needs for heap corruption and for the state of every thread; writing it creates the key, which turns local dumps on
    @{ Key = 'HKLM:\SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps\MyApp.exe'; Name = 'DumpType'; Kind = 'DWord'; Value = 2 }
)

# Save first: the keys about to be created, and every value as it is now.
$created = @()
$values = foreach ($c in $changes) {
    $p = $c.Key
    while ($p -and -not (Test-Path -LiteralPath $p)) {
        if ($created -notcontains $p) { $created += $p }
        $p = Split-Path -Path $p -Parent
    }
    $entry = [ordered]@{ Key = $c.Key; Name = $c.Name; Existed = $false; Kind = $null; Value = $null }
    $k = Get-Item -LiteralPath $c.Key -ErrorAction SilentlyContinue
    if ($k -and ($k.GetValueNames() -contains $c.Name)) {
        $entry.Existed = $true
        $entry.Kind = $k.GetValueKind($c.Name).ToString()
        $entry.Value = $k.GetValue($c.Name, $null, 'DoNotExpandEnvironmentNames')
    }
    [pscustomobject]$entry
}
[pscustomobject]@{ CreatedKeys = @($created); Values = @($values) } |
    ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $saved -Encoding UTF8
Write-Host "Saved the current values to $saved"

foreach ($key in ($created | Sort-Object -Property Length)) { New-Item -Path $key | Out-Null }
foreach ($c in $changes) {
    if ($c.Delete) {
        Remove-ItemProperty -LiteralPath $c.Key -Name $c.Name -ErrorAction SilentlyContinue
        Write-Host "$($c.Key)\$($c.Name) deleted"
        continue
    }
    New-ItemProperty -LiteralPath $c.Key -Name $c.Name -PropertyType $c.Kind -Value $c.Value -Force | Out-Null
    Write-Host "$($c.Key)\$($c.Name) = $($c.Value -join '; ')"
}
Write-Host 'Done. No restart is needed. To undo: revert.ps1'
