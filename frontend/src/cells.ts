/**
 * The notebook's cells as the kernel's `read_notebook` tool gives them to the model:
 * id, type, source, execution count and the text of each output (the kernel bounds and
 * redacts them, as it does every tool result); and the outputs of a cell the person let
 * Copilot run, shown under that cell.
 */
import { ICellModel, ICodeCellModel } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { JSONObject } from '@lumino/coreutils';

function textOf(output: JSONObject): string {
  switch (output.output_type) {
    case 'stream':
      return String(output.text ?? '');
    case 'error':
      return `${String(output.ename ?? '')}: ${String(output.evalue ?? '')}`;
    default: {
      const data = (output.data ?? {}) as JSONObject;
      const plain = data['text/plain'];
      return Array.isArray(plain) ? plain.join('') : String(plain ?? '');
    }
  }
}

function cellOf(cell: ICellModel): JSONObject {
  const found: JSONObject = {
    id: cell.id,
    type: cell.type,
    source: cell.sharedModel.getSource(),
    execution_count: null,
    outputs: []
  };
  if (cell.type === 'code') {
    const code = cell as ICodeCellModel;
    found.execution_count = code.executionCount ?? null;
    found.outputs = code.outputs
      .toJSON()
      .map(output => textOf(output as unknown as JSONObject))
      .filter(text => text.length > 0);
  }
  return found;
}

/** Every cell of ``panel``'s notebook, in order. */
export function cellsOf(panel: NotebookPanel): JSONObject[] {
  const cells = panel.content.model?.cells;
  const found: JSONObject[] = [];
  if (cells) {
    for (let index = 0; index < cells.length; index++) {
      found.push(cellOf(cells.get(index)));
    }
  }
  return found;
}

/**
 * Show ``request.outputs`` (nbformat's, from the kernel's run of the cell) under code cell
 * ``request.cell_id`` in place of its own, numbered ``request.execution_count``: through the
 * notebook's model, so another window sees them and they are saved with the notebook.
 */
export function showOutputs(panel: NotebookPanel, request: JSONObject): JSONObject {
  const cells = panel.content.model?.cells;
  let found: ICellModel | undefined;
  for (let index = 0; cells && index < cells.length; index++) {
    if (cells.get(index).id === request.cell_id) {
      found = cells.get(index);
    }
  }
  if (!found || found.type !== 'code') {
    return { outcome: 'missing' };
  }
  const code = found as ICodeCellModel;
  code.outputs.clear();
  type Output = Parameters<ICodeCellModel['outputs']['add']>[0]; // nbformat's IOutput
  for (const output of (request.outputs ?? []) as unknown as Output[]) {
    code.outputs.add(output);
  }
  const count = request.execution_count;
  code.executionCount = typeof count === 'number' ? count : null;
  return { outcome: 'shown' };
}
