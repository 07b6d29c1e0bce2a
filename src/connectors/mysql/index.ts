import type { EngineConnector } from '../registry';
import { openMysqlPool } from './mysql-pool';
import { MysqlSource } from './mysql-source';
import { MysqlTarget } from './mysql-target';
import { mysqlValueLimits } from './mysql-types';

/** MySQL and MariaDB as a source and a target. */
export const mysqlConnector: EngineConnector<'mysql'> = {
  openSource: (connection) => new MysqlSource(openMysqlPool(connection)),
  openTarget: (connection) => new MysqlTarget(openMysqlPool(connection)),
  valueLimits: mysqlValueLimits,
};
