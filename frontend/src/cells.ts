/**
 * The notebook's cells as the kernel's `read_notebook` tool gives them to the model:
 * id, type, source, execution count and the text of each output (the kernel bounds and
 * redacts them, as it does every tool result).
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
